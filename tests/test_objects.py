"""Object identity read from an object array's pointers."""

import numpy as np
import pytest
import shapely

from landcheck.geometry import objects as _objects
from landcheck.geometry.objects import object_ids


def _arrays():
    geoms = np.array([shapely.Point(i, i) for i in range(7)] + [None, "text", 3.5], dtype=object)
    return {
        "contiguous": geoms,
        "strided": geoms[::3],
        "reversed": geoms[::-1],
        "list": list(geoms),
        "empty": geoms[:0],
    }


@pytest.mark.parametrize("name", list(_arrays()))
@pytest.mark.parametrize("pointers", [True, False])
def test_object_ids_are_the_ids(name, pointers, monkeypatch):
    monkeypatch.setattr(_objects, "_POINTER_IDS", pointers and _objects._POINTER_IDS)
    arr = _arrays()[name]
    got = object_ids(arr)
    assert got.dtype == np.uint64
    assert got.tolist() == [id(x) for x in arr]


def test_object_ids_tell_same_objects_apart():
    p = shapely.Point(0, 0)
    q = shapely.Point(0, 0)  # equal, but another object
    ids = object_ids(np.array([p, q, p], dtype=object))
    assert ids[0] == ids[2] != ids[1]
