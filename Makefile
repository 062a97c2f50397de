# Two commands for users: `make book` and `make test` (see README.md).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
JB     := $(VENV)/bin/jupyter-book
STAMP  := $(VENV)/.installed
# make test: pytest workers (pytest-xdist), each test file and each notebook on one of them
TEST_JOBS ?= 2

.PHONY: book pdf test test-slow test-latest constraints check-html venv plain data lint clean gettext editions

## make book: create .venv, install, get CIFAR-10, execute the chapters, write and open _build/html, with the
## Chinese editions beside it (_build/html/zh-Hant, _build/html/zh-Hans: the same executed notebooks)
book: $(STAMP) data
	$(PY) -m dlfoundations.student --out student
	$(PY) -m dlfoundations.editions write
	$(PY) -m dlfoundations.book --execute cache --jobs 2 --out _build/config.yml
	$(JB) build . --config _build/config.yml
	$(PY) -m dlfoundations.editions build --config _build/config.yml --html _build/html
	@echo "The book is in $(CURDIR)/_build/html/index.html"
	@if [ -z "$$CI" ]; then $(PY) -m webbrowser -t "file://$(CURDIR)/_build/html/index.html" >/dev/null 2>&1 || true; fi

## make test: lint, a warning-free book build (no execution; English and 繁體: make check-html builds 简体 too),
## unit tests and every chapter under nbval (quick profile;
## the kernels without myst-nb, as in Colab, and on a pretend Apple MPS device without float64: tests/kernel_site),
## TEST_JOBS at a time (default 2)
test: $(STAMP)
	$(VENV)/bin/ruff check code tests chapters benchmarks conftest.py
	$(PY) -m dlfoundations.book --execute off --profile quick --out _build/test/config.yml
	$(JB) build . --config _build/test/config.yml --path-output _build/test -W --keep-going -q
	$(PY) -m dlfoundations.editions build --config _build/test/config.yml --html _build/test/_build/html -W \
		--language zh_TW
	DLF_PROFILE=quick $(PY) -m pytest -n $(TEST_JOBS) --dist loadfile --nbval-lax --nbval-current-env --without-myst-nb \
		--emulate-mps --durations=5

## make test-slow: the minutes-long tests; .ci/run runs them
test-slow: $(STAMP)
	$(PY) -m pytest tests -m slow --run-slow -s

## make test-latest: make test with the newest releases pyproject.toml allows (no constraints.txt), in .venv-latest
test-latest:
	rm -rf .venv-latest
	$(PYTHON) -m venv .venv-latest
	.venv-latest/bin/pip install --quiet --upgrade -e ".[book,test]"
	touch .venv-latest/.installed
	.venv-latest/bin/pip freeze --exclude-editable
	$(MAKE) test VENV=.venv-latest

## make constraints: regenerate constraints.txt from the newest releases pyproject.toml allows (then run make test)
constraints:
	rm -rf .venv-pins && $(PYTHON) -m venv .venv-pins && .venv-pins/bin/pip install --quiet -e ".[book,test]"
	(sed -n '1,2p' constraints.txt; .venv-pins/bin/pip freeze --exclude-editable) > constraints.new && mv constraints.new constraints.txt
	rm -rf .venv-pins

## make pdf: the whole book as one PDF, _build/pdf/book.pdf, printed from make book's HTML (same execution cache)
pdf: book
	$(PY) -m dlfoundations.pdf _build/html _build/pdf/book.pdf

## make check-html: execute every chapter (quick profile) as a Colab reader gets it, in kernels of `make plain`'s
## environment, build the book from those outputs, test the HTML in headless Chromium, print it as a PDF and check that
check-html: $(STAMP) plain
	$(PY) -m dlfoundations.book --execute cache --profile quick --jobs 2 --kernel-python $(PLAIN)/venv/bin/python \
		--out _build/check/config.yml
	DLF_PROFILE=quick $(JB) build . --config _build/check/config.yml --path-output _build/check -W --keep-going -q
	DLF_PROFILE=quick $(PY) -m dlfoundations.editions build --config _build/check/config.yml \
		--html _build/check/_build/html -W
	$(JB) build . --config _build/check/config.yml --path-output _build/check --builder linkcheck -q
	DLF_HTML=_build/check/_build/html $(PY) -m pytest tests/test_html.py -v --durations=3
	$(PY) -m dlfoundations.pdf _build/check/_build/html _build/check/book.pdf
	DLF_HTML=_build/check/_build/html DLF_PDF=_build/check/book.pdf $(PY) -m pytest tests/test_pdf.py -v

venv: $(STAMP)

## make plain: what the chapters' install cell gives a Colab reader: a copy of the course (as git has it) installed
## with a plain `pip install -e` (no extras) into $(PLAIN)/venv, with the ipykernel every Jupyter has
PLAIN := _build/plain
plain:
	rm -rf $(PLAIN)/course && mkdir -p $(PLAIN)/course
	git ls-files -z -- code results pyproject.toml README.md constraints.txt | xargs -0 cp --parents -t $(PLAIN)/course
	test -x $(PLAIN)/venv/bin/python || $(PYTHON) -m venv $(PLAIN)/venv
	$(PLAIN)/venv/bin/python -m pip install --quiet -c constraints.txt -e $(PLAIN)/course ipykernel
	$(PLAIN)/venv/bin/python -c "import importlib.util as u; extras = [m for m in ('myst_nb', 'nbval', 'jupyter_book', \
		'pytest') if u.find_spec(m)]; assert not extras, f'the plain install pulled in extras: {extras}'"

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -c constraints.txt -e ".[book,test]"
	touch $(STAMP)

## make data: make sure CIFAR-10 is where the chapters look (downloads it unless CIFAR10_ROOT holds it)
data: $(STAMP)
	$(PY) -c "from dlfoundations import cifar10_files; print('CIFAR-10:', cifar10_files.ensure_cifar10())"

## make gettext: bring the Chinese catalogues (locale/zh_TW) in step with the English source (new messages
## untranslated, changed ones fuzzy); translate them (python -m dlfoundations.i18n todo/fill/check), then
## make editions, then make test
gettext: $(STAMP)
	$(PY) -m dlfoundations.editions update

## make editions: regenerate editions/zh-Hant and editions/zh-Hans (commit them) from the source and locale/
editions: $(STAMP)
	$(PY) -m dlfoundations.editions write

lint: $(STAMP)
	$(VENV)/bin/ruff check code tests chapters benchmarks conftest.py
	$(VENV)/bin/ruff format --check code tests chapters benchmarks conftest.py

clean:
	rm -rf _build
