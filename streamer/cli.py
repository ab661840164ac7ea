"""Command-line interface: thin wrappers that parse options, build a config and call the library."""

from __future__ import annotations

import sys

import typer

from streamer.backends.cli import build_command, calibrate_command
from streamer.errors import StreamerError
from streamer.evaluate.cli import app as eval_app
from streamer.models.classify_cli import classify_command
from streamer.synthetic.cli import app as synth_app
from streamer.train.cli import app as train_app

app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="Real-time endoscopy video stream processor."
)
app.add_typer(eval_app, name="eval")
app.command("calibrate")(calibrate_command)
app.command("build")(build_command)
app.add_typer(synth_app, name="synth")
app.add_typer(train_app, name="train")
app.command("classify")(classify_command)


@app.callback()
def _root() -> None:
    """streamer: quality gate, artefact detection, overlay and filtered outputs for endoscopy video."""


def main() -> None:
    """Console entry point: user errors become one line on stderr and a non-zero exit code."""
    try:
        app(standalone_mode=False)
    except StreamerError as error:
        print(f"streamer: error: {error}", file=sys.stderr)
        sys.exit(error.exit_code)
    except typer.Abort:
        print("streamer: aborted", file=sys.stderr)
        sys.exit(130)
    except Exception as error:  # click usage errors arrive here with standalone_mode=False
        import click

        if isinstance(error, click.ClickException):
            error.show()
            sys.exit(error.exit_code)
        raise
