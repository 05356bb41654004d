Feature: The users' guide's Celery recipe, on Redis, with a worker process
  The recipe is what users copy: a web app publishes tasks to a Redis
  broker and a separate `celery worker` process runs them. The worker's
  lines carry the ID of the request that published the task, and a task
  published by a task names its parent.

  Scenario: A worker process logs the request's ID and the parent
    Given a real redis-server on 127.0.0.1
    And a celery worker process running the guide's Celery recipe
    When the guide's app is sent POST /orders/o-1 with X-Request-ID "guide-celery"
    Then the worker logs "INFO request_id=guide-celery parent=- shop.tasks order o-1 placed"
    And the worker logs the shipping line under "guide-celery" naming the placing task as parent
