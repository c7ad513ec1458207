"""The README's two commands are what CI and new users run."""

from pathlib import Path

ROOT = Path(__file__).parents[1]


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    command = (ROOT / ".ci" / "run").read_text().strip().splitlines()[-1]
    assert f"```bash\n{command}\n```" in readme


def test_readme_run_command_starts_the_app():
    assert "```bash\npython -m pip install -e . && streamlit run app.py\n```" in (ROOT / "README.md").read_text()
