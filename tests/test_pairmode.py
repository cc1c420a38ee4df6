"""data.pairmode is the single source of what each pair-feature mode reads: the model the
builder makes, the batches the pipeline makes and the tf signature agree with its spec, for
every mode; an unknown mode is refused by name."""

import numpy as np
import pytest
import yaml
from jetfiles import class_files

from data import pairmode, pipeline, reader
from infra.yamlconfig import ConfigError
from model import builder


def config(tmp_path, mode):
    cfg = yaml.safe_load(builder.config_path("part_tiny").read_text())
    cfg["model"]["pair_features"] = mode
    path = tmp_path / f"part_tiny_{mode}.yml"
    path.write_text(yaml.safe_dump(cfg))
    return builder.load_config(path)


@pytest.mark.parametrize("name", list(pairmode.MODES))
def test_spec_matches_the_built_model(tmp_path, name):
    cfg = config(tmp_path, name)
    mode = pairmode.pair_mode(cfg)
    assert mode is pairmode.MODES[name] and builder.pair_mode(cfg) == name
    n, nf = cfg["data"]["n_particles"], 7
    for quantized in (True, False):
        model = builder.build_model(cfg, quantized=quantized)
        assert tuple(model.input_names) == mode.input_names
        assert tuple(tuple(i.shape[1:]) for i in model.inputs) == mode.input_shapes(n, nf)
        assert model.input_names[mode.mask_slot] == "mask"
        names = {layer.name for layer in model.layers}
        assert names & set(pairmode.MODE_LAYERS) == set(mode.layers)
        assert model.get_layer("block0_attn").pair_bias is mode.pair_bias
    sig = mode.signature(n, nf)
    assert [tuple(s.shape[1:]) for s in sig] == list(mode.input_shapes(n, nf))


@pytest.mark.parametrize("name", list(pairmode.MODES))
def test_batches_follow_the_spec(tmp_path, name):
    mode = pairmode.MODES[name]
    files = class_files(tmp_path, [9, 7])
    arrays = mode.prepare(reader.load_arrays(files, "kin", 8, reader.load_label_scheme()), "kin")
    if mode.side:
        assert arrays[mode.side].shape == (16, 8, mode.side_width)
    inputs, y = next(pipeline.batches(arrays, 16, shuffle=False, pairs=name))
    assert [a.shape[1:] for a in inputs] == list(mode.input_shapes(8, 7))
    np.testing.assert_array_equal(inputs[mode.mask_slot], arrays["mask"])
    assert len(y) == 16


def test_unknown_mode_is_refused_by_name(tmp_path):
    with pytest.raises(ConfigError, match=r"must be one of host, onchip, none, got 'nope'"):
        pairmode.pair_mode("nope")
    with pytest.raises(ConfigError, match=r"part_tiny_nope.yml: model.pair_features.*'nope'"):
        config(tmp_path, "nope")
