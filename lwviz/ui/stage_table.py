"""The stages of a spec as an editable table (``st.data_editor``), and back."""

from __future__ import annotations

import math
from dataclasses import fields

import pandas as pd
import streamlit as st

from lwviz.families import FAMILIES
from lwviz.plan import resolve
from lwviz.spec import ACTIVATIONS, Spec, Stage

COLUMNS = [f.name for f in fields(Stage)]


def stage_frame(spec: Spec) -> pd.DataFrame:
    return pd.DataFrame([[getattr(s, c) for c in COLUMNS] for s in spec.stages], columns=COLUMNS)


def column_config() -> dict:
    """Editors whose ranges come from the spec's field metadata, so the table and validation agree."""
    config = {
        "block": st.column_config.SelectboxColumn(
            "block",
            options=list(FAMILIES),
            required=True,
            help=", ".join(f"{n}: {f.label}" for n, f in FAMILIES.items()),
        ),
        "act": st.column_config.SelectboxColumn("activation", options=list(ACTIVATIONS), required=True),
        "dense_first": st.column_config.CheckboxColumn(
            "dense first 1x1",
            default=False,
            help="ShuffleNetV1: the stage's first block keeps its first 1x1 dense (groups = 1).",
        ),
    }
    for f in fields(Stage):
        meta = f.metadata
        if meta and meta["lo"] is not None:
            integer = f.type.startswith("int")
            config[f.name] = st.column_config.NumberColumn(
                f.name.replace("_", " "),
                min_value=meta["lo"],
                max_value=meta["hi"],
                required=True,
                step=1 if integer else 0.05,
                format="%d" if integer else "%.3g",
            )
    return config


def with_stage_rows(spec: Spec, frame: pd.DataFrame) -> Spec:
    """``spec`` with its stages read from an edited table; ValueError names the bad cell (``stages[2].kernel``)."""
    rows = [
        {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in row.items()}
        for row in frame.to_dict("records")
    ]
    return resolve(Spec.from_dict({**spec.to_dict(), "stages": rows})).spec
