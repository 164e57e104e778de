"""``python -m pyxenplatform``: the command line.

Also the entry point of a zipapp built from the package folder itself
(``python3 -m zipapp pyxenplatform -o pyxenplatform.pyz``), or of
``python3 pyxenplatform/`` on a source tree: there this file runs as a
top-level script, so its folder (or archive) is first made importable as the
package ``pyxenplatform``.
"""

import sys

if __package__:  # python -m pyxenplatform, or a zipapp holding the pyxenplatform/ folder
    from .cli import main
else:  # sys.path[0] is the package itself: a zip archive or a folder
    import importlib.util
    import os
    import types
    import zipimport

    where = sys.path[0]
    if os.path.isdir(where):
        spec = importlib.util.spec_from_file_location(
            "pyxenplatform", os.path.join(where, "__init__.py"), submodule_search_locations=[where])
        assert spec is not None and spec.loader is not None
        package = importlib.util.module_from_spec(spec)
        sys.modules["pyxenplatform"] = package
        spec.loader.exec_module(package)
    else:
        package = types.ModuleType("pyxenplatform")
        package.__path__ = [where]  # submodules found by the zip importer, as in a folder
        sys.modules["pyxenplatform"] = package
        exec(zipimport.zipimporter(where).get_code("__init__"), package.__dict__)
    from pyxenplatform.cli import main

sys.exit(main())
