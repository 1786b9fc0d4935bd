package gcpemu

import (
	"context"
	"strings"
	"time"

	"cloud.google.com/go/kms/apiv1/kmspb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/reachaudit/reachaudit/providers/sandbox"
)

// kmsServer answers the Cloud KMS reads the plugin makes; every other
// method answers Unimplemented, as the embedded server does.
type kmsServer struct {
	kmspb.UnimplementedKeyManagementServiceServer
	s *Server
}

// gate applies latency, faults and denials to one call; a non-nil error is
// the call's answer.
func (k *kmsServer) gate(ctx context.Context, op, key string) error {
	k.s.requests.Add(1)
	if err := k.s.wait(ctx); err != nil {
		return status.FromContextError(err).Err()
	}
	switch k.s.opts.Faults.Match(op, "") {
	case sandbox.FaultThrottle:
		return status.Error(codes.ResourceExhausted, "Quota exceeded for quota metric 'Read requests' of service 'cloudkms.googleapis.com'.")
	case sandbox.FaultServer:
		return status.Error(codes.Unavailable, "The service is currently unavailable.")
	case sandbox.FaultTimeout:
		k.s.hang(ctx)
		return status.Error(codes.DeadlineExceeded, "Deadline exceeded.")
	case sandbox.FaultMalformed:
		// A gRPC client cannot receive unparseable JSON; the nearest
		// failure is a response it cannot decode.
		return status.Error(codes.Internal, "grpc: error unmarshalling response: proto: cannot parse invalid wire-format data")
	}
	if k.s.keyDeny[key][op] {
		return status.Errorf(codes.PermissionDenied, "Permission '%s' denied on resource '%s' (or it may not exist).", op, key)
	}
	return nil
}

func (k *kmsServer) GetCryptoKey(ctx context.Context, req *kmspb.GetCryptoKeyRequest) (*kmspb.CryptoKey, error) {
	name := req.GetName()
	if err := k.gate(ctx, "cloudkms.cryptoKeys.get", name); err != nil {
		return nil, err
	}
	key, ok := k.s.keys[name]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "%s not found.", name)
	}
	level := protectionLevel(key)
	return &kmspb.CryptoKey{
		Name:       name,
		Purpose:    kmspb.CryptoKey_ENCRYPT_DECRYPT,
		CreateTime: timestamppb.New(k.s.opts.Now.Add(-400 * 24 * time.Hour).Truncate(time.Second)),
		Primary:    k.s.version(key),
		VersionTemplate: &kmspb.CryptoKeyVersionTemplate{
			ProtectionLevel: level,
			Algorithm:       kmspb.CryptoKeyVersion_GOOGLE_SYMMETRIC_ENCRYPTION,
		},
		DestroyScheduledDuration: durationpb.New(30 * 24 * time.Hour),
	}, nil
}

func (k *kmsServer) GetCryptoKeyVersion(ctx context.Context, req *kmspb.GetCryptoKeyVersionRequest) (*kmspb.CryptoKeyVersion, error) {
	name := req.GetName()
	keyName, ver, ok := strings.Cut(name, "/cryptoKeyVersions/")
	if err := k.gate(ctx, "cloudkms.cryptoKeyVersions.get", keyName); err != nil {
		return nil, err
	}
	key, found := k.s.keys[keyName]
	if !ok || !found || ver != "1" {
		return nil, status.Errorf(codes.NotFound, "%s not found.", name)
	}
	return k.s.version(key), nil
}

// version renders a key's only version, which is its primary.
func (s *Server) version(key *Key) *kmspb.CryptoKeyVersion {
	st := key.State
	if st == "" {
		st = "ENABLED"
	}
	created := s.opts.Now.Add(-400 * 24 * time.Hour).Truncate(time.Second)
	v := &kmspb.CryptoKeyVersion{
		Name:            key.Name + "/cryptoKeyVersions/1",
		State:           kmspb.CryptoKeyVersion_CryptoKeyVersionState(kmspb.CryptoKeyVersion_CryptoKeyVersionState_value[st]),
		ProtectionLevel: protectionLevel(key),
		Algorithm:       kmspb.CryptoKeyVersion_GOOGLE_SYMMETRIC_ENCRYPTION,
		CreateTime:      timestamppb.New(created),
	}
	if st != "PENDING_IMPORT" {
		v.GenerateTime = timestamppb.New(created)
	} else {
		v.ImportJob = strings.Replace(key.Name, "/cryptoKeys/", "/importJobs/", 1)
	}
	switch v.ProtectionLevel {
	case kmspb.ProtectionLevel_EXTERNAL:
		v.ExternalProtectionLevelOptions = &kmspb.ExternalProtectionLevelOptions{
			ExternalKeyUri: "https://ekm.example.com/v0/keys/" + lastPart(key.Name)}
	case kmspb.ProtectionLevel_EXTERNAL_VPC:
		v.ExternalProtectionLevelOptions = &kmspb.ExternalProtectionLevelOptions{EkmConnectionKeyPath: "keys/" + lastPart(key.Name)}
	}
	if st == "DESTROY_SCHEDULED" || st == "DESTROYED" {
		at, ok := key.DestroyTime.At(s.opts.Now)
		if !ok {
			at = s.opts.Now.Add(30 * 24 * time.Hour).Truncate(time.Second)
		}
		v.DestroyTime = timestamppb.New(at)
		if st == "DESTROYED" {
			v.DestroyEventTime = timestamppb.New(at)
		}
	}
	return v
}

func protectionLevel(key *Key) kmspb.ProtectionLevel {
	l := key.ProtectionLevel
	if l == "" {
		l = "SOFTWARE"
	}
	return kmspb.ProtectionLevel(kmspb.ProtectionLevel_value[l])
}

func lastPart(name string) string { return name[strings.LastIndex(name, "/")+1:] }
