"""Molecular property prediction end to end: a molecule file → splits → model → artefacts.

Usage::

    from gnnkit.workflows.molecules import MoleculeTrainConfig, train_molecules, predict_molecules

    result = train_molecules(MoleculeTrainConfig(epochs=30, seed=0), "runs/chembl")
    print(result["test"]["rmse"])
    predict_molecules("runs/chembl", "new_molecules.csv", "predictions.csv")

Without ``data`` the embedded ChEMBL set (CHEMBL2321810, pIC50, shipped inside RDKit) is used.

One module per job: :mod:`~gnnkit.workflows.molecules.config` (the settings),
:mod:`~gnnkit.workflows.molecules.data` (dataset and splits),
:mod:`~gnnkit.workflows.molecules.runs` (the run folder and ``run.json``),
:mod:`~gnnkit.workflows.molecules.train`, :mod:`~gnnkit.workflows.molecules.scoring`,
:mod:`~gnnkit.workflows.molecules.columns` (prediction columns),
:mod:`~gnnkit.workflows.molecules.predict` (predictions and fingerprints),
:mod:`~gnnkit.workflows.molecules.attribution` (per-atom attributions, by Captum) and
:mod:`~gnnkit.workflows.molecules.explain` (``attributions.csv`` and pictures).
"""

from gnnkit.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    globals(),
    {
        ".attribution": ("atom_attributions", "repeat_molecule_batch"),
        ".columns": (
            "MODELS_USED",
            "add_prediction_columns",
            "output_name",
            "prediction_column_names",
            "prediction_columns",
            "prediction_slot",
        ),
        ".config": (
            "MODEL_FIELDS",
            "MOLECULE_MODELS",
            "RESUMABLE_SETTINGS",
            "TASKS",
            "MoleculeModel",
            "MoleculeTrainConfig",
        ),
        ".data": (
            "load_dataset",
            "make_splits",
            "rows_split",
            "split_parts",
        ),
        ".explain": ("draw_attributions", "explain_molecules"),
        ".predict": (
            "check_molecule_model",
            "featurize_for_prediction",
            "fingerprint_molecules",
            "load_molecule_ensemble",
            "predict_molecules",
        ),
        ".runs": (
            "RUN_LAYOUTS",
            "TRAINING_SMILES",
            "check_run_folder",
            "member_folders",
            "model_folders",
            "run_record",
            "split_folder",
            "start_run",
            "write_training_smiles",
        ),
        ".scoring": (
            "score_ensemble",
            "summarise_folds",
        ),
        ".train": ("train_molecules",),
    },
)
