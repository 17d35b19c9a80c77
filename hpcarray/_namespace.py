"""Module-level attribute lookup: what hpcarray implements natively, what falls back to
NumPy with a warning, and what is NumPy's own (constants, dtypes, scalar types).

NumPy's submodules without an hpcarray package of their own (fft, emath, polynomial, lib,
ma, char, strings, testing, ...) are seen through a `NumpySubmodule`: attribute access and
`import hpcarray.fft` alike give one, whose functions are fallbacks."""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types

import numpy as np

from hpcarray._fallback import fallback_function

_FUNCTION_TYPES = (types.FunctionType, types.BuiltinFunctionType, type(np.concatenate))


def _hp_name(np_name: str) -> str:
    """numpy.fft -> hpcarray.fft."""
    return "hpcarray" + np_name[len("numpy"):]


def numpy_attribute(np_module, name: str, qualname: str):
    """`name` from a NumPy module: functions wrapped as fallbacks, ufuncs as hpcarray's,
    submodules seen through hpcarray, the rest as they are."""
    try:
        obj = getattr(np_module, name)
    except AttributeError:
        raise AttributeError(f"module {_hp_name(np_module.__name__)!r} has no attribute "
                             f"{name!r}") from None
    if isinstance(obj, _FUNCTION_TYPES) and not isinstance(obj, type):
        return fallback_function(obj, qualname)
    if isinstance(obj, np.ufunc):  # numpy.strings.str_len, ...: hpcarray's ufunc
        from hpcarray._api.ufuncs import ufunc

        return ufunc(obj)
    if isinstance(obj, types.ModuleType) and obj.__name__.startswith("numpy."):
        if obj.__name__ == f"numpy.{qualname}":
            return importlib.import_module(_hp_name(obj.__name__))
        return NumpySubmodule(obj, f"hpcarray.{qualname}")  # an alias: emath (lib.scimath)
    return obj


def module_getattr(np_module, prefix: str, cache: dict):
    """A module `__getattr__` that falls back to `np_module`, caching what it made."""

    def __getattr__(name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return cache[name]
        except KeyError:
            value = numpy_attribute(np_module, name, f"{prefix}{name}")
            cache[name] = value
            return value

    return __getattr__


class NumpySubmodule(types.ModuleType):
    """hpcarray.<sub> for a NumPy submodule hpcarray has no package for: its functions run
    through NumPy (gathered arguments, hpcarray results, one FallbackWarning each), its
    submodules are seen the same way, the rest (classes, constants) is NumPy's."""

    def __init__(self, np_module: types.ModuleType, name: str):
        super().__init__(name, np_module.__doc__)
        self.__path__: list[str] = []  # a package: `import hpcarray.lib.stride_tricks`
        self._numpy = np_module
        public = getattr(np_module, "__all__", None)
        if public is None:
            public = [n for n in dir(np_module) if not n.startswith("_")]
        self.__all__ = list(public)
        self._getattr = module_getattr(np_module, self.__name__[len("hpcarray."):] + ".", {})

    def __getattr__(self, name: str):
        return self._getattr(name)

    def __dir__(self):
        return sorted(set(self.__dict__) | set(dir(self._numpy)))


class _SubmoduleFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Last on sys.meta_path: `import hpcarray.X` where hpcarray has no module X but NumPy
    has a public numpy.X gives a NumpySubmodule."""

    def find_spec(self, fullname, path=None, target=None):
        parent, _, last = fullname.rpartition(".")
        if last.startswith("_") or not (
                parent == "hpcarray" or isinstance(sys.modules.get(parent), NumpySubmodule)):
            return None
        try:
            np_module = importlib.import_module("numpy" + fullname[len("hpcarray"):])
        except ImportError:
            return None
        return importlib.machinery.ModuleSpec(fullname, self, is_package=True,
                                              loader_state=np_module)

    def create_module(self, spec):
        return NumpySubmodule(spec.loader_state, spec.name)

    def exec_module(self, module) -> None:
        pass


def install_submodule_finder() -> None:
    if not any(isinstance(f, _SubmoduleFinder) for f in sys.meta_path):
        sys.meta_path.append(_SubmoduleFinder())
