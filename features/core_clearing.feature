Feature: The ID is reset when the request ends, however it ends
  The context variable is set on entry and reset with its token on exit,
  so it never leaks into the caller or the next request.

  Background:
    Given the probe app behind the correlation middleware

  Scenario Outline: The ID is gone after <outcome>
    When a client sends GET "<path>" with X-Request-ID "clear-me"
    Then the response status is <status>
    And the response header X-Request-ID is "clear-me"
    And the request left nothing in the client's context

    Examples:
      | outcome              | path        | status |
      | a normal response    | /async      | 200    |
      | an unhandled error   | /boom       | 500    |
      | an HTTPException     | /teapot     | 418    |
      | a 404                | /missing    | 404    |
      | a streaming response | /stream     | 200    |

  Scenario: The ID is gone after the client disconnects mid-stream
    When the client disconnects after the first chunk of "/endless"
    Then the request left nothing in the client's context
    And every ID recorded at "endless" is the same generated ID

  Scenario: The ID is gone after the request is cancelled
    When a request to "/slow" is cancelled while its handler waits
    Then the request left nothing in the client's context
    And every ID recorded at "slow" is "cancel-me"
