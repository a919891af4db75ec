"""The data preparation options: one table entry each, read the same from the CLI and the panel."""
from __future__ import annotations

import argparse

from aeviewer.data.preparation import Preparation
from aeviewer.data.sources import SOURCE_NAMES
from aeviewer.data.options import add_data_options, max_memory_of, preparation_from_args, preparation_from_values, preparation_values
from aeviewer.spec.options import BY_NAME, options
from aeviewer.spec.vocabulary import NAMED_DATASETS


def test_the_vocabulary_names_the_same_sets_as_the_sources():
    assert NAMED_DATASETS == SOURCE_NAMES


def test_every_preparation_flag_comes_from_the_table():
    parser = argparse.ArgumentParser()
    add_data_options(parser)
    flags = {a.option_strings[0] for a in parser._actions if a.option_strings}
    assert {o.flag for o in options("data", path_only=True)} <= flags
    assert {"--image-size", "--channels", "--fit", "--background", "--test-fraction", "--max-memory"} <= flags


def test_the_preparation_rows_apply_only_to_a_path():
    values = {"kind": "ae", "arch": "mlp", "dataset": "mnist"}
    assert not BY_NAME["image_size"].applies(values)
    assert BY_NAME["image_size"].applies({**values, "dataset": "/data/photos"})


def test_cli_and_panel_values_make_the_same_preparation():
    parser = argparse.ArgumentParser()
    add_data_options(parser)
    args = parser.parse_args(["--image-size", "32", "--channels", "3", "--fit", "pad", "--test-fraction", "0.3"])
    from_cli = preparation_from_args(args)
    panel = {"image_size": 32, "image_channels": "3", "fit": "pad", "background": "white", "test_fraction": 0.3}
    assert from_cli == preparation_from_values(panel) == Preparation(32, "3", "pad", "white", 0.3)


def test_own_size_is_zero_in_the_panel_and_none_in_the_preparation():
    prep = preparation_from_values({"image_size": 0})
    assert prep.image_size is None
    assert preparation_values(prep)["image_size"] == 0
    assert preparation_from_values(preparation_values(Preparation(48, "1", "pad", "black", 0.25))) == \
        Preparation(48, "1", "pad", "black", 0.25)


def test_the_memory_limit_is_bytes_on_the_cli_and_gigabytes_in_the_panel():
    assert max_memory_of({"max_memory": 2_000_000}) == 2_000_000
    assert max_memory_of({"max_memory": 1.5}) == 1_500_000_000
