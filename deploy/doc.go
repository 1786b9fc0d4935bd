// Package deploy holds what runs reachaudit in production: the hardened
// systemd unit, the Kubernetes CronJob (one-shot scan) and Deployment
// (agent), and the container image's Dockerfile. Its tests check that they
// hold together: the unit verifies with systemd-analyze, the manifests
// probe the agent's real endpoints and keep their security settings.
//
// It must not hold code the binary runs.
package deploy
