"""model.pair_features: none, the plain transformer that ParT's pair bias is measured against:
no pair input and no PairEmbed, particle attention without a bias, in Keras, in the estimate
and in the firmware (bit-exact on both backends at two foldings, padding never read)."""

import re

import numpy as np
import pytest
import yaml
from weights import randomise

from hls import autofold, firmware
from hls.convert import convert
from hls.estimate import estimate
from infra.yamlconfig import ConfigError
from model import builder


def config(tmp_path, mode="none", name="part_tiny_nopair"):
    cfg = yaml.safe_load(builder.config_path("part_tiny").read_text())
    cfg["model"]["pair_features"] = mode
    path = tmp_path / f"{name}.yml"
    path.write_text(yaml.safe_dump(cfg))
    return builder.load_config(path)


def jets(rng, n, nf, lengths, garbage=False):
    mask = (np.arange(n)[None] < np.asarray(lengths)[:, None]).astype(np.float64)
    x = rng.normal(0, 3, (len(lengths), n, nf))
    pad = rng.normal(0, 30, x.shape) if garbage else 0.0
    x = np.where(mask[..., None] > 0, x, pad)
    return [np.ascontiguousarray(np.asarray(a, np.float32), np.float64) for a in (x, mask)]


def test_builder_drops_the_pair_branch(tmp_path):
    cfg = config(tmp_path)
    model = builder.build_model(cfg)
    assert model.input_names == ["particles", "mask"]
    names = {layer.name for layer in model.layers}
    assert not names & {"pair_embed", "pairs_q", "pair_features", "kinematics_q"}
    assert model.get_layer("block0_attn").pair_bias is False
    assert builder.build_model(builder.load_config("part_tiny")).get_layer("block0_attn").pair_bias
    hashes = {
        builder.architecture_hash(c, True)
        for c in (cfg, builder.load_config("part_tiny_host"), builder.load_config("part_tiny"))
    }
    assert len(hashes) == 3
    with pytest.raises(ConfigError, match=r"pair_features must be one of host, onchip, none"):
        config(tmp_path, "nope", "bad")


def test_estimate_has_no_pair_layers(tmp_path):
    cfg = config(tmp_path)
    model = builder.build_model(cfg)
    est = estimate(model, firmware.load_firmware("vu13p"), trained=False)
    host = estimate(
        builder.build_model(builder.load_config("part_tiny_host")),
        firmware.load_firmware("vu13p"),
        trained=False,
    )
    layers = {layer["name"] for layer in est["layers"]}
    assert "pair_embed" not in layers and "block0_attn" in layers
    n, nf = cfg["data"]["n_particles"], model.inputs[0].shape[-1]
    assert est["ports_bits_per_jet"]["inputs"] == {"particles": n * nf * 12, "mask": n}

    def attn_adders(e):
        attn = next(lay for lay in e["layers"] if lay["name"] == "block0_attn")
        return next(r for r in attn["regions"] if r["name"] == "query_rows")["adders"]

    # one bias addition per head and key of a query row less (2 heads x 16 keys)
    assert attn_adders(host) - attn_adders(est) == 2 * n


@pytest.mark.parametrize("backend,fw_name", [("Vivado", "vu9p"), ("Vitis", "vu13p_trigger")])
def test_firmware_bit_exact_without_pair_input(tmp_path, backend, fw_name):
    cfg = config(tmp_path)
    model = builder.build_model(cfg)
    rng = np.random.default_rng(11)
    randomise(model, rng, spread=1.5)
    fw = autofold.resolve(model, firmware.load_firmware(fw_name), trained=False)
    assert fw["backend"] == backend
    n, nf = cfg["data"]["n_particles"], model.inputs[0].shape[-1]
    lengths = np.array([n, 1, 0, 5, n // 2, 3, n - 1, 9])
    inputs = jets(rng, n, nf, lengths)
    want = model.predict(inputs, verbose=0)
    hls_model = convert(model, tmp_path / "prj", **firmware.convert_kwargs(fw))
    hls_model.compile()
    got = np.asarray(hls_model.predict(inputs)).reshape(want.shape)
    np.testing.assert_array_equal(got, want)
    # padded particles are never read: garbage there changes nothing
    other = jets(np.random.default_rng(12), n, nf, lengths, garbage=True)
    other[0] = np.where(inputs[1][..., None] > 0, inputs[0], other[0])
    assert not np.array_equal(other[0], inputs[0])
    np.testing.assert_array_equal(np.asarray(hls_model.predict(other)).reshape(want.shape), want)
    top = (tmp_path / "prj" / "firmware" / "myproject.cpp").read_text()
    signature = top[top.index("void myproject(") : top.index(")", top.index("void myproject("))]
    assert "particles[" in signature and "mask[" in signature
    assert "pairs" not in signature and "kinematics" not in signature
    if fw_name == "vu13p_trigger":  # folded: the estimate's row parallelism reached the code
        assert max(fw["auto_parallel"].values()) > 1
        params = (tmp_path / "prj" / "firmware" / "parameters.h").read_text()
        want_p = fw["auto_parallel"]["block0_attn"]
        assert re.search(rf"parallel = {want_p}; // of {n} tokens", params)
