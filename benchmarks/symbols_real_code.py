"""The name check on real code: every member access in a folder's files, checked as if a model
had written the rest of its line (a false positive where the real name is called invented), and
again with the member renamed (caught where the check calls the renamed one invented). The
folder is the workspace root; each file is opened in turn, as the editor would.

Run: PYTHONPATH=server .venv/bin/python benchmarks/symbols_real_code.py FOLDER LANGUAGE SUFFIX
     (e.g. server/ghosttype python .py; clients/vscode/src typescript .ts)
"""

from __future__ import annotations

import argparse
import collections
import re
from pathlib import Path

from ghosttype.documents import DocumentStore
from ghosttype.symbols import SymbolIndex, check_at

ACCESS = re.compile(r"(?<![\w.$])([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*)\.([A-Za-z_$][\w$]*)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("language")
    parser.add_argument("suffix")
    parser.add_argument("--files", type=int, default=200)
    args = parser.parse_args()
    root = args.folder.resolve()
    store = DocumentStore()
    index = SymbolIndex(store)
    index.configure([root], ())
    documents = []
    for path in sorted(root.rglob("*" + args.suffix))[: args.files]:
        document = store.open(path.as_uri(), path.read_text(encoding="utf-8"), args.language, 1)
        index.document_changed(document)
        documents.append(document)
    assert index.settle(600), "the index did not settle in 10 minutes"
    places = caught = 0
    false_positives: collections.Counter[str] = collections.Counter()
    examples = []
    for document in documents:
        text = document.text
        for match in ACCESS.finditer(text):
            offset = match.start(2)
            check = check_at(index, document, offset, 0)
            if check is None:
                continue
            end = text.find("\n", offset)
            rest = text[offset : end if end != -1 else len(text)]
            places += 1
            invented = check.inventions(rest)
            if invented:
                false_positives[invented[0]] += 1
                if len(examples) < 10:
                    examples.append(f"{Path(document.uri).name}: {rest.strip()[:80]} {invented}")
            renamed = rest.replace(match.group(2), match.group(2) + "Zq", 1)
            caught += bool(check.inventions(renamed))
    index.close()
    print(
        f"{places} member accesses in {len(documents)} files: {sum(false_positives.values())} "
        f"real ones called invented, {caught} ({100 * caught / max(1, places):.0f}%) renamed "
        "ones caught"
    )
    for example in examples:
        print("  false positive:", example)


if __name__ == "__main__":
    main()
