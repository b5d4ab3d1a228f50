package securestore

// KeySecrets stores the 32-byte secret that can unwrap the master key without
// a PIN (where org policy allows). id is the hex store id. The OS
// implementation uses the platform keyring (service "rounds"); tests use a fake.
type KeySecrets interface {
	Get(id string) ([]byte, error)
	Set(id string, secret []byte) error
	Delete(id string) error
}

// keyringService is the service name under which secrets are filed in the OS keyring.
const keyringService = "rounds"
