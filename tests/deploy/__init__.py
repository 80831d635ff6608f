"""deploy.sh, rollouts and monitoring: the real gcloud and bq against fakes of Google's APIs."""
