"""The JetClass file format: tree name, branch names, label scheme, file-name stems.

One place that both the generator (which writes it) and the reader (which must also read the
real JetClass release unchanged) take the format from.
"""

TREE = "tree"

# A string beside the tree naming the detector that made the jets ("none" or
# "<card> sha256:<16 hex>", data/detector.py); the real JetClass release has none.
DETECTOR_KEY = "detector"

# Per-particle branches (jagged: one entry per constituent, vector<float> in the real release).
PARTICLE_BRANCHES = (
    "part_px",
    "part_py",
    "part_pz",
    "part_energy",
    "part_deta",
    "part_dphi",
    "part_d0val",
    "part_d0err",
    "part_dzval",
    "part_dzerr",
    "part_charge",
    "part_isChargedHadron",
    "part_isNeutralHadron",
    "part_isPhoton",
    "part_isElectron",
    "part_isMuon",
)

# Per-jet branches.
JET_BRANCHES = (
    "jet_pt",
    "jet_eta",
    "jet_phi",
    "jet_energy",
    "jet_nparticles",
    "jet_sdmass",
    "jet_tau1",
    "jet_tau2",
    "jet_tau3",
    "jet_tau4",
)

# The ten JetClass classes in the release's label order:
# (label branch, file-name stem, description).
CLASSES = (
    ("label_QCD", "ZJetsToNuNu", "QCD (Z->nunu + jets)"),
    ("label_Hbb", "HToBB", "H->bb"),
    ("label_Hcc", "HToCC", "H->cc"),
    ("label_Hgg", "HToGG", "H->gg"),
    ("label_H4q", "HToWW4Q", "H->WW*->4q"),
    ("label_Hqql", "HToWW2Q1L", "H->WW*->lnuqq'"),
    ("label_Zqq", "ZToQQ", "Z->qq"),
    ("label_Wqq", "WToQQ", "W->qq'"),
    ("label_Tbqq", "TTBar", "t->bqq'"),
    ("label_Tbl", "TTBarLep", "t->blnu"),
)

LABEL_BRANCHES = tuple(c[0] for c in CLASSES)
CLASS_NAMES = tuple(c[0][len("label_") :] for c in CLASSES)
FILE_STEMS = dict((c[0][len("label_") :], c[1]) for c in CLASSES)
