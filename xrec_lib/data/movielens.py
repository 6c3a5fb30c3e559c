"""MovieLens-100K (Harper & Konstan 2015) in RecBole's atomic-file format, dataset ``ml-100k-recbole``.

Atomic files are TAB separated with a typed header ``name:type`` (``token``, ``token_seq``, ``float``):

* ``ml-100k.inter``: ``user_id:token item_id:token rating:float timestamp:float`` (100,000 ratings 1-5);
* ``ml-100k.user``: ``user_id:token age:token gender:token occupation:token zip_code:token``;
* ``ml-100k.item``: ``item_id:token movie_title:token_seq release_year:token class:token_seq`` where
  ``class`` is the space-separated genre list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from xrec_lib.data.manifest import dataset_checksums, dataset_path
from xrec_lib.data.parsing import TextTable, float_column, int_column, read_table
from xrec_lib.errors import DataError

DATASET = "ml-100k-recbole"
INTER_HEADER = ["user_id:token", "item_id:token", "rating:float", "timestamp:float"]
USER_HEADER = ["user_id:token", "age:token", "gender:token", "occupation:token", "zip_code:token"]
ITEM_HEADER = ["item_id:token", "movie_title:token_seq", "release_year:token", "class:token_seq"]


@dataclass(frozen=True)
class MovieLens:
    """Ratings and side attributes with raw MovieLens ids.

    Attributes:
        interactions: columns ``user`` (int), ``item`` (int), ``rating`` (float), ``timestamp`` (int, Unix s).
        users: columns ``user``, ``age`` (int), ``gender``, ``occupation``, ``zip_code`` (str).
        items: columns ``item``, ``title`` (str), ``release_year`` (nullable Int64), ``genres`` (list of str).
        meta: provenance (sha256 of the files read).
    """

    interactions: pd.DataFrame
    users: pd.DataFrame
    items: pd.DataFrame
    meta: dict = field(default_factory=dict)


def read_atomic(path: Path, header: list[str]) -> TextTable:
    """Read a RecBole atomic file and check that its typed header is ``header``."""
    table = read_table(path, delimiter="\t", has_header=True)
    if table.header != header:
        raise DataError(f"{path}: header {table.header} differs from the expected {header}")
    return table


def read_inter(path: Path) -> pd.DataFrame:
    """``ml-100k.inter`` as ``user, item, rating, timestamp``."""
    table = read_atomic(path, INTER_HEADER)
    return pd.DataFrame({
        "user": int_column(table, 0, "user_id"), "item": int_column(table, 1, "item_id"),
        "rating": float_column(table, 2, "rating"),
        "timestamp": float_column(table, 3, "timestamp").astype("int64"),
    })


def read_users(path: Path) -> pd.DataFrame:
    """``ml-100k.user`` as ``user, age, gender, occupation, zip_code``."""
    table = read_atomic(path, USER_HEADER)
    return pd.DataFrame({
        "user": int_column(table, 0, "user_id"), "age": int_column(table, 1, "age"),
        "gender": table.column(2), "occupation": table.column(3), "zip_code": table.column(4),
    })


def read_items(path: Path) -> pd.DataFrame:
    """``ml-100k.item`` as ``item, title, release_year, genres``.

    ``release_year`` is a free token in the atomic file; tokens that are not integers become missing (in the
    published file: ``unkonwn`` for item 267 and ``V`` for item 1412, whose year sits in its title).
    """
    table = read_atomic(path, ITEM_HEADER)
    years = pd.to_numeric(pd.Series(table.column(2), dtype="str"), errors="coerce").astype("Int64")
    return pd.DataFrame({
        "item": int_column(table, 0, "item_id"), "title": table.column(1), "release_year": years,
        "genres": [genres.split() for genres in table.column(3)],
    })


def load_movielens_100k(data_dir: Path | str | None = None) -> MovieLens:
    """MovieLens-100K ratings with user and item attributes (943 users, 1,682 items, 100,000 ratings)."""
    names = ["ml-100k.inter", "ml-100k.user", "ml-100k.item"]
    inter, users, items = (dataset_path(DATASET, name, data_dir) for name in names)
    movielens = MovieLens(read_inter(inter), read_users(users), read_items(items),
                          meta={"dataset": DATASET, "sha256": dataset_checksums(DATASET, names)})
    for column, table in (("user", movielens.users), ("item", movielens.items)):
        unknown = ~movielens.interactions[column].isin(table[column])
        if unknown.any():
            raise DataError(f"{inter}: {column} {movielens.interactions[column][unknown].iloc[0]} "
                            f"has no row in the {column} file")
    return movielens


def item_features(items: pd.DataFrame) -> pd.DataFrame:
    """Product side features of the ``items`` table of :func:`load_movielens_100k`, indexed by ``item``: one 0/1
    column per genre and the standardised release year (``year``, 0 where missing)."""
    genres = items["genres"].explode().str.get_dummies().groupby(level=0).max()
    year = items["release_year"].astype(float)
    year = ((year - year.mean()) / year.std()).fillna(0.0)
    return pd.concat([genres, year.rename("year")], axis=1).set_index(items["item"])
