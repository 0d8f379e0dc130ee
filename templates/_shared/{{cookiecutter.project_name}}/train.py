"""Train, validate, test or predict: `python train.py fit`, `python train.py fit --help`, `python train.py fit --print_config`."""
{%- if cookiecutter._cuda_amp is defined and cookiecutter._cuda_amp %}
import torch
{% endif %}
from runtime.cli import LightningCLI

from {{ cookiecutter.package_name }}.datamodule import {{ cookiecutter._datamodule_class }}
from {{ cookiecutter.package_name }}.module import {{ cookiecutter._module_class }}

if __name__ == "__main__":
{%- if cookiecutter._cuda_amp is defined and cookiecutter._cuda_amp %}
    # the script's torch.cuda.amp autocast and GradScaler work where CUDA is and turn themselves off elsewhere: 16-mixed
    # on a GPU, 32-true on a CPU. A trainer.precision in configs/default.yaml or on the command line wins over this.
    precision = "16-mixed" if torch.cuda.is_available() else "32-true"
    LightningCLI({{ cookiecutter._module_class }}, {{ cookiecutter._datamodule_class }}, parser_kwargs={"default_config_files": ["configs/default.yaml"]},
                 trainer_defaults={"precision": precision})
{%- else %}
    LightningCLI({{ cookiecutter._module_class }}, {{ cookiecutter._datamodule_class }}, parser_kwargs={"default_config_files": ["configs/default.yaml"]})
{%- endif %}
