"""The package layout; everything else about the project is in pyproject.toml.

The repository keeps the pretrained models and the bundled data as top-level folders (trained/, resources/);
a wheel or ``pip install .`` carries them inside the package as aeviewer/trained and aeviewer/resources, so
an installed app opens its pretrained model offline. ``aeviewer.util.paths.shipped_dir`` finds them in either place.
"""
from setuptools import find_namespace_packages, find_packages, setup

SHIPPED = {"aeviewer.trained": "trained", "aeviewer.resources": "resources"}
# Every kind of file the app reads at run time from the shipped folders (models, indexes, data, licences).
SHIPPED_FILES = ["*.safetensors", "*.json", "*.npz", "*.npy", "*.gz", "*.txt", "*.png", "README*", "LICENSE*"]


def shipped_packages() -> list[str]:
    """The shipped folders and their subfolders (resources/data/mnist, ...) as package names."""
    names = list(SHIPPED)
    for package, folder in SHIPPED.items():
        names += [f"{package}.{sub}" for sub in find_namespace_packages(where=folder)]
    return names


setup(
    packages=find_packages(include=["aeviewer", "aeviewer.*"]) + shipped_packages(),
    package_dir=SHIPPED,
    package_data={"aeviewer": ["py.typed"], **{package: SHIPPED_FILES for package in shipped_packages()}},
)
