"""golem-sim's start-up hook: unmodified yapapi and golem-core apps find their images in the
registry at GOLEM_REGISTRY_URL (golem-sim serve serves one at its own URL).

Python imports `sitecustomize` at start-up from the first folder on its path that has one;
`scripts/with-golem-sim.sh` puts this folder first on PYTHONPATH. Without GOLEM_REGISTRY_URL it
does nothing. With it, it changes only the registry lookups, as each library is imported:

- yapapi: `yapapi.payload.vm.repo`'s default `repository_url` (normally the public registry);
- golem-core: `golem.payload.vm.resolve_repository_url` (normally a DNS SRV lookup), which
  then asks the registry for `/image.{hash}.link`.

An app that names its own repository keeps it. Another `sitecustomize` further on the path is
still run afterwards.
"""
import importlib.abc
import os
import sys

REGISTRY = os.environ.get("GOLEM_REGISTRY_URL", "").rstrip("/")
TARGETS = ("yapapi.payload.vm", "golem.payload.vm")


def _redirect(module):
    if module.__name__ == "yapapi.payload.vm":
        module.DEFAULT_REPOSITORY_URL = REGISTRY
        defaults = getattr(module.repo, "__kwdefaults__", None)
        if defaults is not None and "repository_url" in defaults:
            defaults["repository_url"] = REGISTRY
    elif module.__name__ == "golem.payload.vm":
        async def resolve_repository_url(*_args, **_kwargs):
            return REGISTRY

        module.resolve_repository_url = resolve_repository_url


class _RedirectingLoader(importlib.abc.Loader):
    """Runs the module as its own loader would, then redirects its registry lookup."""

    def __init__(self, inner):
        self.inner = inner

    def create_module(self, spec):
        return self.inner.create_module(spec)

    def exec_module(self, module):
        self.inner.exec_module(module)
        _redirect(module)


class _RegistryFinder(importlib.abc.MetaPathFinder):
    """Finds the two registry modules through the other finders and wraps their loaders."""

    def find_spec(self, fullname, path, target=None):
        if fullname not in TARGETS:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _RedirectingLoader(spec.loader)
                return spec
        return None


def _chain_next_sitecustomize():
    here = os.path.dirname(os.path.abspath(__file__))
    for entry in sys.path:
        folder = os.path.abspath(entry or ".")
        candidate = os.path.join(folder, "sitecustomize.py")
        if folder != here and os.path.isfile(candidate):
            with open(candidate, encoding="utf-8") as f:
                code = compile(f.read(), candidate, "exec")
            exec(code, {"__name__": "sitecustomize", "__file__": candidate})
            return


if REGISTRY:
    sys.meta_path.insert(0, _RegistryFinder())
_chain_next_sitecustomize()
