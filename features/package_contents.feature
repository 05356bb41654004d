Feature: A real package
  What pip hands a user is the package, its licence and its papers: not a
  copy of this repository.

  Background:
    Given the sdist and the wheel built from this checkout with uv

  # hatchling adds .gitignore itself, so that a build from the sdist leaves
  # out what a build from the tree leaves out.
  Scenario: The sdist holds the package and its papers, nothing else
    Then the sdist holds the package's files, "pyproject.toml", "README.md", "LICENSE", "CHANGELOG.md", ".gitignore" and "PKG-INFO" only

  Scenario: The wheel holds the package and its metadata, nothing else
    Then the wheel holds the package's files, "py.typed" among them, and its ".dist-info" only
    And the wheel's ".dist-info" carries the licence text

  Scenario: The metadata says what the package is
    Then the metadata's "License-Expression" is "MIT"
    And the metadata's classifiers include "Framework :: FastAPI", "Framework :: Django :: 5.2", "Topic :: System :: Logging" and "Development Status :: 4 - Beta"

  Scenario: The version a user reads is the distribution's
    Then starlette_correlate.__version__ is the version of the built wheel
