"""Tiling choices (runtime/partition.py)."""

from hpcarray.runtime.partition import split_counts


def test_a_grid_and_its_interior_are_cut_the_same_way() -> None:
    # (998, 1000) used to be cut into columns and (1000, 1000) into rows, so every
    # operation mixing a grid with its interior moved whole tiles between ranks.
    assert split_counts((1000, 1000), 2) == split_counts((998, 1000), 2) == (2, 1)


def test_leading_axes_are_cut_while_tiles_stay_near_square() -> None:
    assert split_counts((1000, 1000), 4) == (4, 1)
    assert split_counts((1000, 1000), 6) == (3, 2)
    assert split_counts((10, 1000), 2) == (1, 2)
    counts = split_counts((8000, 8000), 512)
    assert counts == (32, 16)  # tiles of 250 x 500: halos stay small at scale


def test_extents_too_small_to_cut() -> None:
    assert split_counts((3,), 4) == (2,)
    assert split_counts((), 2) == ()
    assert split_counts((1, 1), 2) == (1, 1)
