# Alert policies routed to the notification channels given as variables (create channels in the console or with
# google_monitoring_notification_channel and pass their ids).

locals {
  documentation_suffix = "See docs/deploy-gcp.md (Operating) for the runbook."
}

# A message that exhausted its delivery attempts is sitting in a dead-letter hold subscription.
resource "google_monitoring_alert_policy" "dead_letter_backlog" {
  project               = var.project_id
  display_name          = "ctloop: dead-lettered messages"
  combiner              = "OR"
  enabled               = var.enabled
  notification_channels = var.notification_channels
  severity              = "ERROR"

  conditions {
    display_name = "dead-letter hold subscription has undelivered messages"

    condition_threshold {
      filter          = "resource.type = \"pubsub_subscription\" AND metric.type = \"pubsub.googleapis.com/subscription/num_undelivered_messages\" AND resource.labels.subscription_id = monitoring.regex.full_match(\".*-dead-letter-hold\")"
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "300s"

      aggregations {
        alignment_period   = "60s"
        per_series_aligner = "ALIGN_MAX"
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "A ctloop event failed every delivery attempt and was dead-lettered. Pull it from the `*-dead-letter-hold` subscription named in the incident, read the function's error log for the message id, fix, and republish to the original topic. ${local.documentation_suffix}"
  }
}

# Messages a function acknowledged as permanently bad (not a valid event) and wrote to
# gs://<artifacts>/dead-letter/<function>/: counted from the structured log line the function writes for each.
resource "google_logging_metric" "permanent_dead_letters" {
  project = var.project_id
  name    = "ctloop/permanent_dead_letters"
  filter  = "resource.type=\"cloud_run_revision\" AND jsonPayload.ctloopEvent=\"dead-lettered\""

  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
    unit        = "1"
    labels {
      key         = "consumer"
      value_type  = "STRING"
      description = "Function that dead-lettered the message."
    }
  }

  label_extractors = {
    consumer = "EXTRACT(jsonPayload.consumer)"
  }
}

# Cloud Monitoring answers 404 for a log-based metric created seconds earlier (provider issue #11102), so a policy on
# it fails on the first apply. Wait until Monitoring sees the metric; the policy reads the metric name from here.
resource "time_sleep" "permanent_dead_letters_metric" {
  create_duration = var.log_metric_propagation

  triggers = {
    metric = google_logging_metric.permanent_dead_letters.name
  }
}

resource "google_monitoring_alert_policy" "permanent_dead_letters" {
  project               = var.project_id
  display_name          = "ctloop: invalid messages dead-lettered"
  combiner              = "OR"
  enabled               = var.enabled
  notification_channels = var.notification_channels
  severity              = "WARNING"

  conditions {
    display_name = "a function acknowledged a message it could not parse or validate"

    condition_threshold {
      filter          = "resource.type = \"cloud_run_revision\" AND metric.type = \"logging.googleapis.com/user/${time_sleep.permanent_dead_letters_metric.triggers["metric"]}\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"

      aggregations {
        alignment_period   = "300s"
        per_series_aligner = "ALIGN_SUM"
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "A producer published a message that is not a valid ctloop event (or carries invalid data). It was acknowledged and written, with its reason, to `gs://<artifacts>/dead-letter/<function>/<day>/<messageId>.json`. Fix the producer; republish the corrected event. ${local.documentation_suffix}"
  }
}

# Functions answering 5xx (a thrown handler): each one is a retry, repeated ones end in the dead-letter topic.
resource "google_monitoring_alert_policy" "function_errors" {
  project               = var.project_id
  display_name          = "ctloop: function errors"
  combiner              = "OR"
  enabled               = var.enabled
  notification_channels = var.notification_channels
  severity              = "WARNING"

  conditions {
    display_name = "ctloop functions return 5xx"

    condition_threshold {
      filter          = "resource.type = \"cloud_run_revision\" AND metric.type = \"run.googleapis.com/request_count\" AND metric.labels.response_code_class = \"5xx\" AND resource.labels.service_name = monitoring.regex.full_match(\"${var.function_name_prefix}.*\")"
      comparison      = "COMPARISON_GT"
      threshold_value = var.function_error_threshold
      duration        = "0s"

      # request_count has one series per response code (500, 503, ...) and revision: sum them per function, or
      # 3 x 500 + 3 x 503 would never cross a threshold of 5.
      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["resource.label.service_name"]
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "A ctloop function failed more than ${var.function_error_threshold} times in 5 minutes. Transient errors are retried; permanent ones are acknowledged and logged with a hint. ${local.documentation_suffix}"
  }
}

# Drift, data-validation and rollout alerts: every ctloop.alert.raised.v1 published by the loop pages a human.
resource "google_monitoring_alert_policy" "alerts_raised" {
  project               = var.project_id
  display_name          = "ctloop: drift or data alert raised"
  combiner              = "OR"
  enabled               = var.enabled
  notification_channels = var.notification_channels
  severity              = "WARNING"

  conditions {
    display_name = "messages published to the alerts topic"

    condition_threshold {
      filter          = "resource.type = \"pubsub_topic\" AND metric.type = \"pubsub.googleapis.com/topic/send_message_operation_count\" AND resource.labels.topic_id = \"${var.alerts_topic}\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"

      aggregations {
        alignment_period   = "300s"
        per_series_aligner = "ALIGN_SUM"
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "ctloop raised an alert (drift, broken data, failed rollout). Read the alert.raised events (`ctloop events` or the alerts topic) for subject, reason and details. ${local.documentation_suffix}"
  }
}

# A Vertex AI training job failed (its service log lines at ERROR).
resource "google_monitoring_alert_policy" "training_failed" {
  project               = var.project_id
  display_name          = "ctloop: training job failed"
  combiner              = "OR"
  enabled               = var.enabled
  notification_channels = var.notification_channels
  severity              = "ERROR"

  conditions {
    display_name = "Vertex AI CustomJob error"

    condition_matched_log {
      filter = "resource.type=\"ml_job\" AND resource.labels.task_name=\"service\" AND severity>=ERROR"

      label_extractors = {
        job_id = "EXTRACT(resource.labels.job_id)"
      }
    }
  }

  alert_strategy {
    auto_close = "86400s"

    notification_rate_limit {
      period = "3600s"
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "A Vertex AI training job failed. Its logs: `gcloud ai custom-jobs stream-logs <job_id>`. ${local.documentation_suffix}"
  }
}
