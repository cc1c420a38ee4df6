"""Pythia8 settings and truth signature for each JetClass class.

Why forced decays: generating open decays and rejecting by truth would waste most events
(e.g. with open W decays about 69% of H->WW* events are fully hadronic). Every class forces the
decay that defines it, so only the jet-level cuts and the truth containment reject events.

Why pTHatMin = 450 GeV: in these 2->2 processes the boosted object's pT is pTHat (up to
shower recoil), so a cut a little below the 500 GeV jet threshold keeps the pT > 500 selection
efficient while the spectrum just above the threshold stays unbiased.
"""

from dataclasses import dataclass

PT_HAT_MIN = 450.0  # GeV

# Settings shared by every class.  ParticleDecays:limitTau0/tau0Max = 10 mm/c is the usual LHC
# convention (K0S, Lambda, ... reach the "detector" as final-state particles); b and c hadrons
# (c*tau < 0.5 mm) still decay in Pythia and give the displaced tracks seen in d0/dz.
COMMON = (
    "Beams:eCM = 13000.",
    f"PhaseSpace:pTHatMin = {PT_HAT_MIN}",
    "ParticleDecays:limitTau0 = on",
    "ParticleDecays:tau0Max = 10.",
    "Print:quiet = on",
    "Next:numberCount = 0",
    "Next:numberShowEvent = 0",
    "Next:numberShowInfo = 0",
    "Next:numberShowProcess = 0",
)

_HZ_NUNU = ("HiggsSM:ffbar2HZ = on", "23:onMode = off", "23:onIfAny = 12 14 16")
_Z_JET = (
    "WeakBosonAndParton:qqbar2gmZg = on",
    "WeakBosonAndParton:qg2gmZq = on",
    "WeakZ0:gmZmode = 2",
    "23:onMode = off",
)
_W_JET = ("WeakBosonAndParton:qqbar2Wg = on", "WeakBosonAndParton:qg2Wq = on", "24:onMode = off")
_TTBAR = ("Top:gg2ttbar = on", "Top:qqbar2ttbar = on", "24:onMode = off")
_QUARKS = "1 2 3 4 5"
_LEPTONS = "11 13 15"


@dataclass(frozen=True)
class Process:
    """How to make one class: Pythia settings and what the jet must contain.

    variants: alternative extra settings, each run in its own Pythia instance with batches taken
        in turn (used for H->lnuqq' so that both W charges decay leptonically equally often:
        Pythia can only force the W+ and W- decays separately).
    resonance: |PDG id| of the object that must be inside the jet (None for QCD).
    n_visible: number of visible decay products (quarks, gluons, charged leptons) it must have.
    """

    settings: tuple
    variants: tuple = ((),)
    resonance: int | None = None
    n_visible: int = 0


PROCESSES = {
    # Z(->nunu) + jet: the recoiling parton gives the QCD jet, the Z leaves no visible trace.
    "QCD": Process(_Z_JET + ("23:onIfAny = 12 14 16",)),
    "Hbb": Process(
        _HZ_NUNU + ("25:onMode = off", "25:onIfMatch = 5 -5"), resonance=25, n_visible=2
    ),
    "Hcc": Process(
        _HZ_NUNU + ("25:onMode = off", "25:onIfMatch = 4 -4"), resonance=25, n_visible=2
    ),
    "Hgg": Process(
        _HZ_NUNU + ("25:onMode = off", "25:onIfMatch = 21 21"), resonance=25, n_visible=2
    ),
    "H4q": Process(
        _HZ_NUNU
        + (
            "25:onMode = off",
            "25:onIfMatch = 24 -24",
            "24:onMode = off",
            f"24:onIfAny = {_QUARKS}",
        ),
        resonance=25,
        n_visible=4,
    ),
    "Hqql": Process(
        _HZ_NUNU + ("25:onMode = off", "25:onIfMatch = 24 -24", "24:onMode = off"),
        variants=(
            (f"24:onPosIfAny = {_QUARKS}", f"24:onNegIfAny = {_LEPTONS}"),
            (f"24:onNegIfAny = {_QUARKS}", f"24:onPosIfAny = {_LEPTONS}"),
        ),
        resonance=25,
        n_visible=3,
    ),
    "Zqq": Process(_Z_JET + (f"23:onIfAny = {_QUARKS}",), resonance=23, n_visible=2),
    "Wqq": Process(_W_JET + (f"24:onIfAny = {_QUARKS}",), resonance=24, n_visible=2),
    # Both tops decay the same way, so either can give a jet of the class.
    "Tbqq": Process(_TTBAR + (f"24:onIfAny = {_QUARKS}",), resonance=6, n_visible=3),
    "Tbl": Process(_TTBAR + (f"24:onIfAny = {_LEPTONS}",), resonance=6, n_visible=2),
}
