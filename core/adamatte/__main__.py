from adamatte.cli import run

run()
