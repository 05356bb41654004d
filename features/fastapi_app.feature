Feature: A FastAPI app gets the ID with the two-line set-up
  FastAPI is a Starlette app: `app.add_middleware(CorrelationMiddleware)`
  is the whole set-up. The request's ID is then current everywhere FastAPI
  runs the user's code for that request: dependencies (async, sync ones
  that FastAPI runs in a worker thread, and the teardown of one with
  yield), sync and async endpoints, background tasks after the response,
  exception handlers, and WebSockets.

  Background:
    Given a FastAPI app with the correlation middleware added in one line
    And a log handler with the correlation filter on the app's logger

  Scenario: The response and the endpoint carry the client's ID
    When a client sends GET "/items/7" with X-Request-ID "fa-plain"
    Then the response status is 200
    And the response header X-Request-ID is "fa-plain"
    And the response JSON field "endpoint_id" is "fa-plain"

  Scenario: A request without an ID gets one, the same in header and endpoint
    When a client sends GET "/items/7" without an ID header
    Then the response status is 200
    And the response JSON field "endpoint_id" equals the response header X-Request-ID

  Scenario: Async, sync and yield dependencies and a sync endpoint see the ID
    When a client sends GET "/sync-items" with X-Request-ID "fa-depends"
    Then the response status is 200
    And the response JSON field "async_dependency_id" is "fa-depends"
    And the response JSON field "sync_dependency_id" is "fa-depends"
    And the response JSON field "yield_dependency_id" is "fa-depends"
    And the response JSON field "endpoint_id" is "fa-depends"
    And the yield dependency's teardown saw the ID "fa-depends"

  Scenario: A background task's log line carries the request's ID
    When a client sends POST "/notify" with X-Request-ID "fa-background"
    And another client sends POST "/notify" with X-Request-ID "fa-other"
    Then the response status is 202
    And the logged line "notification sent" of the first request has request_id "fa-background"
    And the logged line "notification sent" of the second request has request_id "fa-other"

  Scenario: A custom handler for a custom exception answers with the ID
    When a client sends GET "/teapot" with X-Request-ID "fa-custom"
    Then the response status is 418
    And the response header X-Request-ID is "fa-custom"
    And the response JSON field "handler_id" is "fa-custom"

  Scenario: An HTTPException and a validation error keep the header
    When a client sends GET "/items/404" with X-Request-ID "fa-missing"
    Then the response status is 404
    And the response header X-Request-ID is "fa-missing"
    When a client sends GET "/items/not-a-number" with X-Request-ID "fa-invalid"
    Then the response status is 422
    And the response header X-Request-ID is "fa-invalid"

  Scenario: An unhandled exception is a 500 with the header; the app's handler still reads the ID
    When a client sends GET "/boom" with X-Request-ID "fa-boom"
    Then the response status is 500
    And the response header X-Request-ID is "fa-boom"
    And the response JSON field "request_id" is "fa-boom"
    And the app's handler for Exception saw the ID "fa-boom"

  Scenario: A WebSocket endpoint and its dependency see the ID, over real HTTP
    Given the app is served by uvicorn on 127.0.0.1
    When a WebSocket client connects to "/ws" with X-Request-ID "fa-ws"
    Then the WebSocket replies "fa-ws fa-ws"
