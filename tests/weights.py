"""Random weights for the firmware tests: wide enough that saturation and rounding boundaries
are exercised."""


def randomise(model, rng, spread=3.0):
    """Kernels past the weight range (they saturate), gammas over [-2, 2], every other weight
    (biases, betas, the class token) normal with `spread`."""
    for w in model.weights:
        name = w.name.split("/")[-1]
        if name.startswith(("kernel", "w")):
            w.assign(rng.uniform(-1.2, 1.2, w.shape))
        elif "gamma" in name:
            w.assign(rng.uniform(-2.0, 2.0, w.shape))
        else:
            w.assign(rng.normal(0.0, spread, w.shape))
