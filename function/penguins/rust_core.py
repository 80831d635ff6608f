"""pydantic-core's compiled validators and JSON parser, loaded without the package's Python layer.

`import pydantic_core` first runs its __init__, which builds core_schema's hundreds of TypedDicts: 25-38 ms
of a 0.3 s cold start (python -X importtime, .venv-lean), for names the function never uses (it validates
from schemas exported ahead, see schema.py). The compiled module alone loads in 4 ms. It is registered
under its own name, so a later `import pydantic_core` (pydantic, for /openapi.json) reuses it: one module,
the same classes. Laid out otherwise (another version), the plain import is used: slower, the same result.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from types import ModuleType

_NAME = "pydantic_core._pydantic_core"


def _compiled_core() -> ModuleType:
    loaded = sys.modules.get(_NAME)
    if loaded is not None:
        return loaded
    try:
        package = importlib.util.find_spec("pydantic_core")  # locates the package without running it
        folder = os.path.dirname(package.origin)  # type: ignore[union-attr, arg-type]
        (filename,) = [f for f in os.listdir(folder) if f.startswith("_pydantic_core.") and f.endswith((".so", ".pyd"))]
        spec = importlib.util.spec_from_file_location(_NAME, os.path.join(folder, filename))
        module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        sys.modules[_NAME] = module
        spec.loader.exec_module(module)  # type: ignore[union-attr]
        return module
    except Exception:  # any other layout: the package's own way
        sys.modules.pop(_NAME, None)
        import pydantic_core

        return pydantic_core._pydantic_core


_core = _compiled_core()
SchemaValidator = _core.SchemaValidator
ValidationError = _core.ValidationError
from_json = _core.from_json
