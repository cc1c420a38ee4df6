"""Truth-level containment of a decaying resonance in a jet, from Pythia's event record.

Why from the record rather than from fixed indices: Pythia copies a resonance many times
(shower recoil) and a top only decays after the parton shower, so the decay is found by
walking the mother/daughter links.  The resonance direction is taken from its last copy (the
one that decays) and each visible product from its first appearance after the decay (before its
own shower), which is what "the decay products are inside the jet" means in JetClass.
"""

import numpy as np

RESONANCES = (6, 23, 24, 25)  # decayed further when found among decay products
NEUTRINOS = (12, 14, 16)


def daughters(d1, d2):
    """Daughter indices from Pythia's (daughter1, daughter2) pair, following its conventions."""
    if d1 <= 0:
        return ()
    if d2 == 0 or d2 == d1:
        return (d1,)
    if d2 > d1:
        return tuple(range(d1, d2 + 1))
    return (d1, d2)


class EventRecord:
    """One event's record as numpy arrays (id, daughter1, daughter2, px, py, pz)."""

    def __init__(self, pid, d1, d2, px, py, pz):
        self.pid, self.d1, self.d2 = pid, d1, d2
        self.px, self.py, self.pz = px, py, pz

    def kids(self, i):
        return daughters(int(self.d1[i]), int(self.d2[i]))

    def last_copy(self, i):
        """Follow the same-flavour daughter (recoil copies, radiation) to the copy that decays."""
        while True:
            same = [k for k in self.kids(i) if self.pid[k] == self.pid[i]]
            if not same:
                return i
            i = same[0]

    def decaying(self, abs_id):
        """Last copies of all particles with |id| == abs_id that decay (have daughters)."""
        cand = np.nonzero(np.abs(self.pid) == abs_id)[0]
        return sorted(i for i in {self.last_copy(int(c)) for c in cand} if self.kids(i))

    def visible_products(self, i):
        """Quarks, gluons and charged leptons from the decay of i, through intermediate W/Z."""
        out = []
        for k in self.kids(self.last_copy(i)):
            a = abs(int(self.pid[k]))
            if a in RESONANCES:
                out += self.visible_products(k)
            elif a not in NEUTRINOS:
                out.append(k)
        return out

    def eta_phi(self, idx):
        idx = np.asarray(idx, dtype=np.int64)
        px, py, pz = self.px[idx], self.py[idx], self.pz[idx]
        pt = np.hypot(px, py)
        with np.errstate(divide="ignore", invalid="ignore"):
            eta = np.arcsinh(pz / pt)
        return np.where(pt > 0, eta, np.sign(pz) * np.inf), np.arctan2(py, px)


def delta_phi(a, b):
    """a - b wrapped to (-pi, pi]."""
    return np.pi - np.mod(np.pi - (a - b), 2 * np.pi)


def contained_jets(record, abs_id, n_visible, jet_eta, jet_phi, radius):
    """Indices of jets that contain a decaying resonance and all its visible products.

    Each resonance with the expected number of visible products is tested against every jet;
    a jet is returned at most once.  The result is sorted.
    """
    found = set()
    for r in record.decaying(abs_id):
        prods = record.visible_products(r)
        if len(prods) != n_visible:
            continue
        eta, phi = record.eta_phi([r] + prods)
        deta = eta[:, None] - jet_eta[None, :]
        dphi = delta_phi(phi[:, None], jet_phi[None, :])
        inside = np.all(deta**2 + dphi**2 < radius**2, axis=0)
        found.update(np.nonzero(inside)[0].tolist())
    return sorted(found)
