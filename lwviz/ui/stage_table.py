"""The stages of a spec as an editable table (``st.data_editor``), and back."""

from __future__ import annotations

import math
from dataclasses import fields

import pandas as pd
import streamlit as st

from lwviz.families import FAMILIES
from lwviz.i18n import N_
from lwviz.plan import resolve
from lwviz.spec import ACTIVATIONS, Spec, Stage
from lwviz.ui.language import _

COLUMNS = [f.name for f in fields(Stage)]
# The knobs only one family reads (the others ignore them): an empty cell, as a new row leaves it, is the default.
FAMILY_KNOBS = ("dense_first", "dw_start", "mid_dw", "ratio", "branches")


def stage_frame(spec: Spec) -> pd.DataFrame:
    return pd.DataFrame([[getattr(s, c) for c in COLUMNS] for s in spec.stages], columns=COLUMNS)


# Column headers and help of the stage table: the field names are the spec's, the words are the catalog's.
LABELS = {
    "block": N_("block"),
    "repeats": N_("repeats"),
    "kernel": N_("kernel"),
    "stride": N_("stride"),
    "out_chs": N_("out chs"),
    "expand": N_("expand"),
    "se": N_("se"),
    "act": N_("activation"),
    "groups": N_("groups"),
    "dense_first": N_("dense first 1x1"),
    "dw_start": N_("dw before expansion"),
    "mid_dw": N_("dw after expansion"),
    "ratio": N_("ghost ratio"),
    "branches": N_("branches"),
}
HELP = {
    "dense_first": N_("ShuffleNetV1: the stage's first block keeps its first 1x1 dense (groups = 1)."),
    "dw_start": N_("UIB (MobileNetV4): kernel of a depthwise conv before the expansion; 0 = none."),
    "mid_dw": N_("UIB (MobileNetV4): the depthwise conv after the expansion, of the stage's kernel size."),
    "ratio": N_("Ghost bottleneck (GhostNet): 1/ratio of a ghost module's maps come from a 1x1 conv."),
    "branches": N_("MobileOne: parallel conv + BN branches per conv while training, folded into one to run."),
}


def column_config() -> dict:
    """Editors whose ranges come from the spec's field metadata, so the table and validation agree."""
    config = {
        "block": st.column_config.SelectboxColumn(
            _(LABELS["block"]),
            options=list(FAMILIES),
            required=True,
            help=", ".join(f"{n}: {_(f.label)}" for n, f in FAMILIES.items()),
        ),
        "act": st.column_config.SelectboxColumn(_(LABELS["act"]), options=list(ACTIVATIONS), required=True),
    }
    for f in fields(Stage):
        meta = f.metadata
        label, help_text = _(LABELS[f.name]), _(HELP[f.name]) if f.name in HELP else None
        if f.type.startswith("bool"):
            config[f.name] = st.column_config.CheckboxColumn(label, default=f.default, help=help_text)
        elif meta and meta["lo"] is not None:
            integer = f.type.startswith("int")
            optional = f.name in FAMILY_KNOBS
            config[f.name] = st.column_config.NumberColumn(
                label,
                help=help_text,
                min_value=meta["lo"],
                max_value=meta["hi"],
                required=not optional,
                default=f.default if optional else None,
                step=1 if integer else 0.05,
                format="%d" if integer else "%.3g",
            )
    return config


def with_stage_rows(spec: Spec, frame: pd.DataFrame) -> Spec:
    """``spec`` with its stages read from an edited table; ValueError names the bad cell (``stages[2].kernel``)."""
    rows = [
        {
            k: None if isinstance(v, float) and math.isnan(v) else v
            for k, v in row.items()
            if not (k in FAMILY_KNOBS and (v is None or isinstance(v, float) and math.isnan(v)))
        }
        for row in frame.to_dict("records")
    ]
    return resolve(Spec.from_dict({**spec.to_dict(), "stages": rows})).spec
