output "dead_letter_subscription" {
  description = "Subscription holding dead-lettered messages (alerted on, inspected by hand)."
  value       = google_pubsub_subscription.dead_letter_hold.name
}

output "dead_letter_topic_id" {
  description = "Full id of the dead-letter topic (projects/<p>/topics/<t>)."
  value       = google_pubsub_topic.dead_letter.id
}

output "event_types" {
  description = "Event types carried by the topic."
  value       = var.event_types
}

output "topic_id" {
  description = "Full id of the topic (projects/<p>/topics/<t>)."
  value       = google_pubsub_topic.this.id
}

output "topic_name" {
  description = "Topic id without project."
  value       = google_pubsub_topic.this.name
}
