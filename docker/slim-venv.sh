#!/bin/sh
# Remove what a running bot never needs from a virtual environment (used by docker/Dockerfile and
# by tests/ops/test_image_steps.py, so the trimmed environment is the one the tests start).
#   - test suites shipped inside packages (numpy, scipy, scikit-learn, …)   ~60 MB
#   - type stubs (*.pyi) and Cython/C build inputs (*.pxd, *.pyx, numpy's C headers)
# Byte-code (__pycache__) is kept on purpose: the image runs as a non-root user who cannot write
# it, and compiling sklearn/scipy on every start would slow start-up by seconds.
set -eu
venv="${1:?usage: slim-venv.sh VENV_DIR}"
site="$(find "$venv/lib" -maxdepth 2 -type d -name site-packages | head -n 1)"
[ -n "$site" ] || { echo "no site-packages under $venv" >&2; exit 1; }
find "$site" -depth -type d \( -name tests -o -name test \) -path '*/site-packages/*/*' \
    -exec rm -rf {} +
find "$site" -type f \( -name '*.pyi' -o -name '*.pxd' -o -name '*.pyx' \) -delete
rm -rf "$site/numpy/_core/include" "$site/numpy/f2py/tests"
echo "slimmed $site: $(du -sh "$site" | cut -f1) left"
