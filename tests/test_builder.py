"""The model builder: shapes, masking of the whole model, cost report, configs."""

import numpy as np
import pytest

from data import features as F
from model import builder
from model import layers as L


@pytest.fixture(scope="module")
def tiny():
    cfg = builder.load_config("part_tiny")
    return cfg, builder.build_model(cfg)


def _inputs(rng, cfg, counts):
    n = cfg["data"]["n_particles"]
    nf = len(F.feature_names(cfg["data"]["features"]))
    x = rng.normal(0, 1, (len(counts), n, nf)).astype(np.float32)
    pairs = rng.normal(0, 1, (len(counts), n, n, 4)).astype(np.float32)
    pairs = (pairs + pairs.transpose(0, 2, 1, 3)) / 2
    mask = (np.arange(n)[None] < np.asarray(counts)[:, None]).astype(np.float32)
    return x, pairs, mask


def test_padding_never_changes_the_output():
    cfg = builder.load_config("part_tiny_host")  # the N x N pair input, padded with garbage
    model = builder.build_model(cfg)
    rng = np.random.default_rng(0)
    model.set_weights([rng.normal(0, 0.5, w.shape) for w in model.get_weights()])
    x, pairs, mask = _inputs(rng, cfg, [3, 16, 9, 1])
    out = model.predict([x, pairs, mask], verbose=0)
    pad = mask == 0
    x2, pairs2 = x.copy(), pairs.copy()
    x2[pad] = rng.normal(0, 4, x2[pad].shape)
    pair_pad = pad[:, :, None] | pad[:, None, :]
    pairs2[pair_pad] = rng.normal(0, 4, pairs2[pair_pad].shape)
    out2 = model.predict([x2, pairs2, mask], verbose=0)
    np.testing.assert_array_equal(out, out2)
    assert out.shape == (4, 10)


def test_float_twin_has_the_same_weights_layout(tiny):
    cfg, model = tiny
    twin = builder.build_model(cfg, quantized=False)
    assert [w.shape for w in twin.get_weights()] == [w.shape for w in model.get_weights()]
    assert twin.name == "part_tiny-float"
    assert builder.architecture_hash(cfg, True) != builder.architecture_hash(cfg, False)


def test_cost_report(tiny):
    cfg, model = tiny
    rows = builder.cost_report(model, cfg)
    assert sum(r["params"] for r in rows) == model.count_params()
    embed = next(r for r in rows if r["layer"] == "embed_0")
    n, nf, e = 16, 7, 16  # part_tiny: 16 particles, kin features, embedding 16
    assert embed["macs"] == n * nf * e
    assert embed["bops"] == n * nf * e * 8 * 16  # 8-bit weights x 16-bit activations
    pair = next(r for r in rows if r["layer"] == "pair_embed")
    assert pair["macs"] == (n * (n + 1) // 2) * (4 * 8 + 8 * 2)


@pytest.mark.parametrize(
    "name",
    [
        "part_tiny",
        "part_l1",
        "part_full",
        "part_tiny_host",
        "part_l1_host",
        "part_full_onchip",
        "part_trigger",
        "part_trigger_rtl",
        "part_trigger_rtl_plain",
        "part_trigger_rtl_learned",
    ],
)
def test_shipped_configs_build(name):
    cfg = builder.load_config(name)
    model = builder.build_model(cfg)
    n = cfg["data"]["n_particles"]
    if cfg["model"]["pair_features"] == "onchip":  # the particle list: no N x N input
        assert model.input_names == ["particles", "kinematics", "mask"]
        assert model.inputs[1].shape[1:] == (n, 3)
        assert isinstance(model.get_layer("pair_features"), L.PairFeatures)
        twin = builder.build_model(cfg, quantized=False)
        assert not twin.get_layer("pair_features").quantized
    elif cfg["model"]["pair_features"] == "none":  # the plain transformer: no pair input
        assert model.input_names == ["particles", "mask"]
        assert "pair_embed" not in [layer.name for layer in model.layers]
    else:
        assert model.inputs[1].shape[1:] == (n, n, 4)
    assert model.outputs[0].shape[-1] == 10
    if name.startswith("part_full"):  # the paper's size, with either pair input
        assert cfg["model"]["quantized"] is False and 2.0e6 < model.count_params() < 2.3e6


def test_fingerprint_is_unchanged_by_the_onchip_keys():
    """Models trained before `pair_features` / `kin_t` existed keep their fingerprint (their
    checkpoints stay usable); the on-chip variant gets another one."""
    import copy

    cfg = builder.load_config("part_tiny_host")
    old = copy.deepcopy(cfg)
    del old["model"]["pair_features"], old["quantization"]["kin_t"]
    for quantized in (True, False):
        assert builder.architecture_hash(cfg, quantized) == builder.architecture_hash(
            old, quantized
        )
    onchip = builder.load_config("part_tiny")
    assert builder.architecture_hash(onchip, True) != builder.architecture_hash(cfg, True)


def test_fingerprint_is_unchanged_by_the_internal_type_keys():
    """The pair features' internal types, their table sizes and qkv_t came after models were
    trained: at their defaults the fingerprint is the one of before; set, they enter it and
    reach the layers (qkv_t unset: the attention's q, k, v are act_t)."""
    import copy

    cfg = builder.load_config("part_tiny")
    old = copy.deepcopy(cfg)
    new_keys = ["pair_angle_t", "pair_table_t", "pair_ln_t", "pair_log_bits"]
    new_keys += ["pair_angle_table_size", "pair_softplus_table_size", "qkv_t"]
    for k in new_keys:
        del old["quantization"][k]
    assert builder.architecture_hash(cfg, True) == builder.architecture_hash(old, True)
    model = builder.build_model(cfg)
    attn = model.get_layer("block0_attn")
    assert str(attn.qkv_t) == str(attn.ctx_t) == cfg["quantization"]["act_t"]

    narrow = builder.load_config("part_trigger_rtl")
    q = narrow["quantization"]
    assert builder.architecture_hash(narrow, True) != builder.architecture_hash(
        builder.load_config("part_trigger_narrow"), True
    )
    model = builder.build_model(narrow)
    pf, attn = model.get_layer("pair_features"), model.get_layer("block0_attn")
    assert (str(pf.angle_t), str(pf.table_t), str(pf.ln_t)) == (
        q["pair_angle_t"],
        q["pair_table_t"],
        q["pair_ln_t"],
    )
    assert (pf.log_bits, pf.softplus_table_size) == (q["pair_log_bits"], 256)
    assert str(attn.qkv_t) == q["qkv_t"] != q["act_t"]


def test_the_norms_outside_the_attentions_can_be_dropped():
    """ffn_norm / head_norm false: the FFNs and the head read their input unnormalised (the
    layers are gone, the attentions keep theirs); attn_norm false drops the attentions' own;
    true, as every model before them, keeps the fingerprint of before."""
    import copy

    cfg = builder.load_config("part_trigger_rtl")
    old = copy.deepcopy(cfg)
    del old["model"]["ffn_norm"], old["model"]["head_norm"], old["model"]["attn_norm"]
    assert builder.architecture_hash(cfg, True) == builder.architecture_hash(old, True)
    fast = builder.load_config("part_trigger_rtl_fast")
    assert builder.architecture_hash(fast, True) != builder.architecture_hash(cfg, True)
    norms = [x.name for x in builder.build_model(cfg).layers if "norm" in x.name]
    assert norms == ["block0_ffn_norm", "cls0_ffn_norm", "head_norm"]
    model = builder.build_model(fast)
    assert not [x.name for x in model.layers if "norm" in x.name]
    fc1 = model.get_layer("block0_ffn_fc1")
    assert fc1.input.node.layer.name == "block0_attn_add"  # the residual sum, as it is
    assert all(model.get_layer(x).norm is not None for x in ("block0_attn", "cls0_attn"))
    bare = builder.load_config("part_trigger_rtl_nonorm")  # the attentions' pre-norms too
    assert builder.architecture_hash(bare, True) != builder.architecture_hash(fast, True)
    model = builder.build_model(bare)
    assert all(model.get_layer(x).norm is None for x in ("block0_attn", "cls0_attn"))
    assert not [w.name for w in model.weights if "norm" in w.name]


def test_pooling_keys(tmp_path):
    """model.pooling: sum reads the particles summed (FxSumPool) and has no class blocks;
    a bad value, or class blocks with it, is refused naming the file and the key; the default
    keeps the fingerprint of before."""
    import copy

    from infra.yamlconfig import ConfigError

    cfg = builder.load_config("part_trigger_rtl_pool")
    assert cfg["model"]["pooling"] == "sum" and cfg["model"]["num_cls_blocks"] == 0
    model = builder.build_model(cfg)
    assert model.get_layer("head").input.node.layer.name == "pool"  # the head reads the sum
    assert not [x.name for x in model.layers if x.name.startswith("cls")]
    base = builder.load_config("part_trigger_rtl")
    old = copy.deepcopy(base)
    del old["model"]["pooling"]
    assert builder.architecture_hash(base, True) == builder.architecture_hash(old, True)
    text = builder.config_path("part_trigger_rtl_pool").read_text()
    for bad, message in (
        (
            text.replace("pooling: sum", "pooling: max"),
            r"model.pooling must be one of class_token, sum, got 'max'",
        ),
        (
            text.replace("num_cls_blocks: 0", "num_cls_blocks: 1"),
            r"model.pooling: sum has no class token for model.num_cls_blocks=1",
        ),
    ):
        path = tmp_path / "pool.yml"
        path.write_text(bad)
        with pytest.raises(ConfigError, match=r"pool.yml: " + message):
            builder.load_config(path)


def test_a_type_without_fractional_bits_is_refused(tmp_path):
    """ap_fixed<4,9> (a step of 32) once trained to chance and C-simulated "bit-exact"; the
    config is refused naming the file, the key and why (issue 21, item 4)."""
    from infra.yamlconfig import ConfigError

    text = builder.config_path("part_tiny").read_text()
    assert "act_t:" in text
    bad = tmp_path / "coarse.yml"
    bad.write_text(
        "\n".join(
            "  act_t: 'ap_fixed<4,9>'" if line.strip().startswith("act_t:") else line
            for line in text.splitlines()
        )
    )
    with pytest.raises(
        ConfigError, match=r"coarse.yml: quantization.act_t: .*no fractional bit .*step of 32"
    ):
        builder.load_config(bad)
