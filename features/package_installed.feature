Feature: The installed wheel, as a user meets it
  Built, installed into a fresh virtualenv outside the checkout and run
  from an empty folder, the package keeps the quick start's promises with
  nothing but what it ships: the response's ID is on the app's line and on
  the server's own access and traceback lines.

  Background:
    Given the wheel and the sdist built from this checkout

  @wheel
  Scenario: The quick start, from the wheel in a fresh virtualenv
    Given a fresh virtualenv outside the checkout, with the wheel, fastapi and uvicorn installed
    And the quick-start app of the site and the README in an empty folder, with a route that fails
    When the user runs "starlette-correlate log-config uvicorn > log.json"
    And the user serves it with "uvicorn app:app --log-config log.json"
    And a client calls "/", then "/boom", then "/" with a hostile X-Request-ID
    Then the package the server ran is the wheel's, from the virtualenv
    And every line the server printed is one key=value record
    And the app's "hello" line for each call to "/" carries the ID of its response
    And uvicorn's access line for each call carries the ID of its response
    And uvicorn's "Exception in ASGI application" line carries the ID of the 500 response, once
    And the hostile ID was replaced and appears in no line

  Scenario: The sdist builds the same wheel
    When a wheel is built from the sdist
    Then it holds the same files, with the same contents, as the wheel built from the checkout
