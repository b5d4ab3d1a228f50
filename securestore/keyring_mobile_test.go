//go:build android || ios

package securestore

import "testing"

func TestKeyringUnavailableOnMobile(t *testing.T) {
	_, err := OSKeySecrets{}.Get("x")
	wantErr(t, err, ErrKeyringUnavailable)
	wantErr(t, OSKeySecrets{}.Set("x", nil), ErrKeyringUnavailable)
}
