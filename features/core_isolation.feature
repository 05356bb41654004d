Feature: Concurrent requests never see each other's ID
  Hundreds of requests interleave on one event loop; each sees only its own
  ID at every point of its handler.

  Scenario: Isolation in process through httpx.ASGITransport
    Given the probe app behind the correlation middleware
    When 300 requests run concurrently in process, each with its own ID
    Then every request saw only its own ID at every point

  Scenario: Isolation over HTTP through a real uvicorn server
    Given the probe app behind the correlation middleware
    And the app is served by uvicorn on 127.0.0.1
    When 200 requests run concurrently over HTTP, each with its own ID
    Then every request saw only its own ID at every point
