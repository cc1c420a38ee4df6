"""One spec per pair-feature mode (`model.pair_features`): what the data side produces and what
the model reads beside the particle features, so that the reader, the pipelines, the shards,
the builder, the trainer and the C simulation ask one place instead of comparing names.

- "host": the (N, N, 4) pair features are a model input, computed per batch in numpy from the
  particles' 4-vectors (data.features.pair_inputs, weaver-core's float64 formulas);
- "onchip": the model reads the (N, 3) per-particle kinematics [ln pT, eta, phi] and computes
  the pair features itself (model.layers.PairFeatures, as the firmware does);
- "none": no pair input and no pair bias (the plain transformer).

A fourth mode is one more entry in MODES (plus, if it needs new layers, the builder's branch).
"""

from __future__ import annotations

from dataclasses import dataclass

from data import features as F
from infra.yamlconfig import ConfigError


class PairModeError(ConfigError):
    """A pair-feature mode that does not exist."""


def with_kinematics(arrays, feature_set: str) -> dict:
    """arrays plus "kinematics" (data.features.particle_kinematics), computed once."""
    if "kinematics" not in arrays:
        arrays = dict(
            arrays,
            kinematics=F.particle_kinematics(
                arrays["features"], feature_set, arrays["vectors"], arrays["mask"]
            ),
        )
    return arrays


def host_pair_features(vectors, mask, n_particles):
    """The host's (B, N, N, 4) pair features of a batch inside a tf.data map (numpy: the GIL)."""
    import tensorflow as tf

    out = tf.numpy_function(F.pair_inputs, [vectors, mask], tf.float32, stateful=False)
    out.set_shape((None, n_particles, n_particles, len(F.PAIR_FEATURES)))
    return out


@dataclass(frozen=True)
class PairMode:
    """What one mode reads and builds. The batches are (particles, [pair input], mask): the
    side array (`side`, `side_width` floats per particle) is what the reader, the streaming
    pipeline and the shards carry per particle; the model's pair input (`input_name`) is made
    from it per batch (`pairs_from_side`: host's N x N features from the 4-vectors)."""

    name: str
    label: str  # the dashboard's words for it
    side: str | None  # the per-particle array beside the features: "vectors" / "kinematics"
    side_width: int  # its floats per particle (the shard record's extra columns)
    input_name: str | None  # the model input beside particles and mask
    pairs_from_side: bool  # the input is the N x N pair features of the side's 4-vectors
    cast_layer: str | None  # the FxQuant layer that reads that input
    cast_type: str | None  # its quantization key
    pair_features_layer: bool  # model.layers.PairFeatures computes the pairs in the model
    pair_bias: bool  # PairEmbed + a bias in particle attention
    hash_name: bool  # the name enters builder.architecture_hash (host: the original mode)
    hash_drops: tuple = ()  # quantization keys left out of that hash (added after the mode)

    @property
    def input_names(self) -> tuple:
        return ("particles", self.input_name, "mask") if self.input_name else ("particles", "mask")

    @property
    def mask_slot(self) -> int:
        """Where the mask is among the model's inputs (always last)."""
        return len(self.input_names) - 1

    @property
    def layers(self) -> tuple:
        """The layers that exist in this mode only (the others are in every model)."""
        out = (self.cast_layer,) if self.cast_layer else ()
        out += ("pair_features",) if self.pair_features_layer else ()
        return out + (("pair_embed",) if self.pair_bias else ())

    def input_shape(self, n: int) -> tuple | None:
        """The pair input's shape for one jet of n particles (None: no pair input)."""
        if not self.input_name:
            return None
        return (n, n, len(F.PAIR_FEATURES)) if self.pairs_from_side else (n, self.side_width)

    def input_shapes(self, n: int, n_features: int) -> tuple:
        """The shapes of the model's inputs for one jet, in input_names' order."""
        pair = self.input_shape(n)
        return ((n, n_features),) + ((pair,) if pair else ()) + ((n,),)

    def prepare(self, arrays, feature_set: str) -> dict:
        """Reader arrays (features, vectors, mask, labels) plus this mode's side array."""
        return with_kinematics(arrays, feature_set) if self.side == "kinematics" else arrays

    def pair_input(self, side, mask):
        """A batch's side array -> the model's pair input (numpy)."""
        return F.pair_inputs(side, mask) if self.pairs_from_side else side

    def tf_pair_input(self, side, mask, n_particles):
        """The same inside a tf.data map."""
        return host_pair_features(side, mask, n_particles) if self.pairs_from_side else side

    def batch_inputs(self, arrays, idx) -> tuple:
        """(particles, [pair input], mask) of the jets idx of prepared arrays."""
        mask = arrays["mask"][idx]
        side = (self.pair_input(arrays[self.side][idx], mask),) if self.side else ()
        return (arrays["features"][idx], *side, mask)

    def signature(self, n: int, n_features: int):
        """tf.TensorSpecs of a batch's model inputs (float32, batch dimension None)."""
        import tensorflow as tf

        return tuple(
            tf.TensorSpec((None, *s), tf.float32) for s in self.input_shapes(n, n_features)
        )

    def side_signature(self, n: int, n_features: int):
        """tf.TensorSpecs of (particles, [side array], mask) as the streaming readers yield."""
        import tensorflow as tf

        shapes = [(n, n_features)] + ([(n, self.side_width)] if self.side else []) + [(n,)]
        return tuple(tf.TensorSpec((None, *s), tf.float32) for s in shapes)


MODES = {
    m.name: m
    for m in (
        PairMode(
            name="host",
            label="ParT, pair bias from the host",
            side="vectors",
            side_width=4,
            input_name="pairs",
            pairs_from_side=True,
            cast_layer="pairs_q",
            cast_type="pair_input_t",
            pair_features_layer=False,
            pair_bias=True,
            hash_name=False,
            hash_drops=("kin_t",),
        ),
        PairMode(
            name="onchip",
            label="ParT, pair bias on chip",
            side="kinematics",
            side_width=len(F.KINEMATICS),
            input_name="kinematics",
            pairs_from_side=False,
            cast_layer="kinematics_q",
            cast_type="kin_t",
            pair_features_layer=True,
            pair_bias=True,
            hash_name=True,
        ),
        PairMode(
            name="none",
            label="plain transformer",
            side=None,
            side_width=0,
            input_name=None,
            pairs_from_side=False,
            cast_layer=None,
            cast_type=None,
            pair_features_layer=False,
            pair_bias=False,
            hash_name=True,
        ),
    )
}
DEFAULT = "host"  # a config without model.pair_features, and every checkpoint from before it
# the layers that exist in some modes only (hls.firmware: one firmware config serves all)
MODE_LAYERS = tuple(dict.fromkeys(name for m in MODES.values() for name in m.layers))


def pair_mode(mode) -> PairMode:
    """The spec of a mode: its name, a PairMode, or a model config (model.pair_features)."""
    if isinstance(mode, PairMode):
        return mode
    if isinstance(mode, dict):
        mode = mode["model"]["pair_features"]
    if mode not in MODES:
        raise PairModeError(f"model.pair_features must be one of {', '.join(MODES)}, got {mode!r}")
    return MODES[mode]
