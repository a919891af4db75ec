"""No import cycles among aeviewer's modules: every strongly connected component of the import graph is one module.

grimp (import-linter's graph, in the test extras) reads every import statement, those inside functions and
under TYPE_CHECKING too: an import hidden in a function is still a cycle, only a slower one to notice.
"""
from __future__ import annotations

import grimp


def strongly_connected(graph: grimp.ImportGraph) -> list[list[str]]:
    """The components of more than one module (Tarjan's algorithm, iterative: no recursion limit to meet)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph.modules):
        if root in index:
            continue
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        while work:
            module, imported = work[-1]
            step = next(imported, None)
            if step is not None:
                if step not in index:
                    index[step] = low[step] = len(index)
                    stack.append(step)
                    on_stack.add(step)
                    work.append((step, iter(sorted(graph.find_modules_directly_imported_by(step)))))
                elif step in on_stack:
                    low[module] = min(low[module], index[step])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[module])
            if low[module] == index[module]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == module:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def describe(graph: grimp.ImportGraph, component: list[str]) -> str:
    """The component's imports among its own modules, with their lines: where to cut."""
    members = set(component)
    lines = []
    for importer in component:
        for imported in sorted(graph.find_modules_directly_imported_by(importer) & members):
            at = ", ".join(str(d["line_number"]) for d in graph.get_import_details(importer=importer, imported=imported))
            lines.append(f"    {importer} -> {imported} (line {at})")
    return "\n".join([" <-> ".join(component), *lines])


def test_no_import_cycles_among_aeviewer_modules() -> None:
    graph = grimp.build_graph("aeviewer", include_external_packages=False, cache_dir=None)
    cycles = strongly_connected(graph)
    assert not cycles, "import cycles:\n" + "\n".join(describe(graph, c) for c in cycles)


def test_the_cycle_finder_finds_a_cycle_through_three_modules() -> None:
    graph = grimp.ImportGraph()
    for importer, imported in (("p.a", "p.b"), ("p.b", "p.c"), ("p.c", "p.a"), ("p.c", "p.d"), ("p.d", "p.e")):
        graph.add_import(importer=importer, imported=imported)
    assert strongly_connected(graph) == [["p.a", "p.b", "p.c"]]


if __name__ == "__main__":  # `python tests/test_import_cycles.py` in a checkout: count and name its cycles
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    found = grimp.build_graph("aeviewer", include_external_packages=False, cache_dir=None)
    cycles = strongly_connected(found)
    print(f"{len(cycles)} import cycles among {len(found.modules)} modules")
    for component in cycles:
        print("  " + " <-> ".join(component))
