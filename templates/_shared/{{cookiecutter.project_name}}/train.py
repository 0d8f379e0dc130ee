"""Train, validate, test or predict: `python train.py fit`, `python train.py fit --help`, `python train.py fit --print_config`."""
from runtime.cli import LightningCLI

from {{ cookiecutter.package_name }}.datamodule import {{ cookiecutter._datamodule_class }}
from {{ cookiecutter.package_name }}.module import {{ cookiecutter._module_class }}

if __name__ == "__main__":
    LightningCLI({{ cookiecutter._module_class }}, {{ cookiecutter._datamodule_class }}, parser_kwargs={"default_config_files": ["configs/default.yaml"]})
