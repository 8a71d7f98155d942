package api

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/labstack/echo/v4"

	"github.com/remedy-cases/remedy/auth"
	cases "github.com/remedy-cases/remedy/case"
)

// MinPasswordLength is the shortest password a user may be given.
const MinPasswordLength = auth.MinPasswordLength

// HashPassword returns the argon2id PHC string of password (see auth.HashPassword).
func HashPassword(password string) (string, error) { return auth.HashPassword(password) }

// claims are the access token's claims.
type claims struct {
	jwt.RegisteredClaims
	Role     cases.Role `json:"role"`
	ClientID string     `json:"client_id,omitempty"`
}

// tokenLeeway is the clock skew allowed on a token's times.
const tokenLeeway = 30 * time.Second

// tokens issues and verifies access tokens.
type tokens struct {
	key      ed25519.PrivateKey
	kid      string
	issuer   string
	audience string
	ttl      time.Duration
	now      func() time.Time
	parser   *jwt.Parser
	// verified remembers the tokens whose signature and claims were
	// checked, by their SHA-256: an Ed25519 verification costs about as
	// much as the rest of a small request. A hit is still checked for
	// expiry; nothing else about a verified token changes with time.
	verified *lru.Cache[[sha256.Size]byte, *claims]
}

// verifiedTokens bounds the cache of verified tokens: one per signed-in
// device is enough, and a miss costs only a verification.
const verifiedTokens = 4096

func newTokens(key ed25519.PrivateKey, issuer, audience string, ttl time.Duration, now func() time.Time) (*tokens, error) {
	if len(key) != ed25519.PrivateKeySize {
		return nil, errors.New("api: an Ed25519 signing key is required")
	}
	if issuer == "" || audience == "" {
		return nil, errors.New("api: the token issuer and audience are required")
	}
	pub := key.Public().(ed25519.PublicKey)
	sum := sha256.Sum256(pub)
	t := &tokens{key: key, kid: base64.RawURLEncoding.EncodeToString(sum[:12]), issuer: issuer,
		audience: audience, ttl: ttl, now: now}
	var err error
	if t.verified, err = lru.New[[sha256.Size]byte, *claims](verifiedTokens); err != nil {
		return nil, err
	}
	// golang-jwt checks exp, iss and aud only when asked: ask for all of
	// them, and accept the one algorithm we sign with.
	t.parser = jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}),
		jwt.WithIssuer(issuer),
		jwt.WithAudience(audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(tokenLeeway),
		jwt.WithTimeFunc(now),
		jwt.WithStrictDecoding(),
	)
	return t, nil
}

func (t *tokens) issue(u *cases.User) (string, error) {
	now := t.now()
	c := claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: t.issuer, Subject: u.ID.String(), Audience: jwt.ClaimStrings{t.audience},
			IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(t.ttl)),
			ID: uuid.NewString(),
		},
		Role: u.Role,
	}
	if u.ClientID.Valid {
		c.ClientID = u.ClientID.UUID.String()
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, c)
	tok.Header["kid"] = t.kid
	return tok.SignedString(t.key)
}

func (t *tokens) verify(raw string) (*claims, error) {
	sum := sha256.Sum256([]byte(raw))
	if c, ok := t.verified.Get(sum); ok {
		if !t.now().Before(c.ExpiresAt.Add(tokenLeeway)) {
			t.verified.Remove(sum)
			return nil, jwt.ErrTokenExpired
		}
		return c, nil
	}
	var c claims
	_, err := t.parser.ParseWithClaims(raw, &c, func(tok *jwt.Token) (any, error) {
		if kid, _ := tok.Header["kid"].(string); kid != t.kid {
			return nil, errors.New("unknown key id")
		}
		return t.key.Public(), nil
	})
	if err != nil {
		return nil, err
	}
	t.verified.Add(sum, &c)
	return &c, nil
}

func (t *tokens) jwks() JWKS {
	pub := t.key.Public().(ed25519.PublicKey)
	return JWKS{Keys: []JWK{{Kty: "OKP", Crv: "Ed25519", X: base64.RawURLEncoding.EncodeToString(pub),
		Kid: t.kid, Alg: "EdDSA", Use: "sig"}}}
}

// maxAuthorization bounds the Authorization header; a token is a few hundred bytes.
const maxAuthorization = 4096

// authenticate reads the bearer token from the Authorization header (never
// from the query string or a cookie), verifies it, and checks that its user
// still exists, is enabled and has the role the token claims.
func (s *Server) authenticate(c echo.Context) (cases.Actor, error) {
	header := c.Request().Header.Get(echo.HeaderAuthorization)
	if header == "" {
		return cases.Actor{}, unauthorized("Authentication is required: send Authorization: Bearer <token>.")
	}
	if len(header) > maxAuthorization {
		return cases.Actor{}, unauthorized("The Authorization header is too long.")
	}
	scheme, raw, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || raw == "" {
		return cases.Actor{}, unauthorized("The Authorization header must be Bearer <token>.")
	}
	claims, err := s.tokens.verify(strings.TrimSpace(raw))
	if err != nil {
		return cases.Actor{}, unauthorized("The access token is not valid.")
	}
	id, err := uuid.Parse(claims.Subject)
	if err != nil {
		return cases.Actor{}, unauthorized("The access token is not valid.")
	}
	u, err := s.Users.FindUserByID(c.Request().Context(), id)
	if cases.ErrorCode(err) == cases.ENOTFOUND {
		return cases.Actor{}, unauthorized("The access token is not valid.")
	} else if err != nil {
		return cases.Actor{}, err
	}
	clientID := ""
	if u.ClientID.Valid {
		clientID = u.ClientID.UUID.String()
	}
	if u.Disabled || u.Role != claims.Role || clientID != claims.ClientID {
		return cases.Actor{}, unauthorized("The access token is no longer valid; sign in again.")
	}
	return u.Actor(), nil
}

// signIn checks an email and password through the shared Authenticator
// and answers a token. Failures are counted per account and per address;
// past the limit the answer is 429 until the back-off ends, whatever the
// password.
func (s *Server) signIn(c echo.Context) error {
	var req TokenRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	at := auth.Attempt{Email: req.Email, Password: req.Password, Address: c.RealIP()}
	if req.DeviceToken != nil {
		at.Device = *req.DeviceToken
	}
	u, device, err := s.Auth.SignIn(c.Request().Context(), at)
	if wait, ok := auth.Throttled(err); ok {
		return &problemError{code: codeTooManyRequests, retryAfter: int(wait.Seconds()) + 1,
			message: "Too many failed sign-ins; wait before trying again."}
	} else if errors.Is(err, auth.ErrBusy) {
		return &problemError{code: codeUnavailable, retryAfter: 1,
			message: "Too many sign-ins at once; retry in a moment."}
	} else if err != nil {
		return err
	}
	token, err := s.tokens.issue(u)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, Token{AccessToken: token, TokenType: Bearer, ExpiresIn: int(s.tokens.ttl.Seconds()),
		DeviceToken: device})
}
