package storage

import (
	"context"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"gorm.io/gorm"

	cases "github.com/remedy-cases/remedy/case"
)

// ClientService implements cases.ClientService.
type ClientService struct{ db *DB }

// FactoryService implements cases.FactoryService.
type FactoryService struct{ db *DB }

// UserService implements cases.UserService.
type UserService struct{ db *DB }

var (
	_ cases.ClientService  = (*ClientService)(nil)
	_ cases.FactoryService = (*FactoryService)(nil)
	_ cases.UserService    = (*UserService)(nil)
)

// NewClientService returns the client service of db.
func NewClientService(db *DB) *ClientService { return &ClientService{db: db} }

// NewFactoryService returns the factory service of db.
func NewFactoryService(db *DB) *FactoryService { return &FactoryService{db: db} }

// NewUserService returns the user service of db.
func NewUserService(db *DB) *UserService { return &UserService{db: db} }

func (s *ClientService) CreateClient(ctx context.Context, actor cases.Actor, n cases.NewClient) (*cases.Client, error) {
	n.Name = strings.TrimSpace(n.Name)
	if err := n.Validate(); err != nil {
		return nil, err
	}
	row := clientRow{ID: uuid.Must(uuid.NewV7()), Name: n.Name, Active: true, CreatedAt: s.db.now()}
	err := s.db.createAudited(ctx, actor, &row, "Client", auditEvent{action: cases.ActionClientCreated, subject: row.ID.String()})
	if err != nil {
		return nil, err
	}
	return row.domain(), nil
}

func (s *ClientService) FindClientByID(ctx context.Context, id uuid.UUID) (*cases.Client, error) {
	var row clientRow
	if err := s.db.gorm.WithContext(ctx).Where("id = ?", id).Take(&row).Error; err != nil {
		return nil, s.db.interpret(err, "Client")
	}
	return row.domain(), nil
}

func (s *ClientService) ListClients(ctx context.Context) ([]*cases.Client, error) {
	var rows []clientRow
	if err := s.db.gorm.WithContext(ctx).Order("name").Find(&rows).Error; err != nil {
		return nil, s.db.interpret(err, "Clients")
	}
	out := make([]*cases.Client, len(rows))
	for i := range rows {
		out[i] = rows[i].domain()
	}
	return out, nil
}

func (s *ClientService) SetClientActive(ctx context.Context, actor cases.Actor, id uuid.UUID, active bool) error {
	return s.db.updateAudited(ctx, actor, &clientRow{}, id, map[string]any{"active": active}, "Client",
		auditEvent{action: cases.ActionClientActivated, subject: id.String(), details: map[string]string{"active": strconv.FormatBool(active)}})
}

func (s *FactoryService) CreateFactory(ctx context.Context, actor cases.Actor, n cases.NewFactory) (*cases.Factory, error) {
	n.Name, n.Province, n.City = strings.TrimSpace(n.Name), strings.TrimSpace(n.Province), strings.TrimSpace(n.City)
	if err := n.Validate(); err != nil {
		return nil, err
	}
	row := factoryRow{ID: uuid.Must(uuid.NewV7()), Name: n.Name, Province: n.Province, City: n.City, CreatedAt: s.db.now()}
	err := s.db.createAudited(ctx, actor, &row, "Factory", auditEvent{action: cases.ActionFactoryCreated, subject: row.ID.String()})
	if err != nil {
		return nil, err
	}
	return row.domain(), nil
}

func (s *FactoryService) FindFactoryByID(ctx context.Context, id uuid.UUID) (*cases.Factory, error) {
	var row factoryRow
	if err := s.db.gorm.WithContext(ctx).Where("id = ?", id).Take(&row).Error; err != nil {
		return nil, s.db.interpret(err, "Factory")
	}
	return row.domain(), nil
}

func (s *FactoryService) ListFactories(ctx context.Context) ([]*cases.Factory, error) {
	var rows []factoryRow
	if err := s.db.gorm.WithContext(ctx).Order("province, city, name").Find(&rows).Error; err != nil {
		return nil, s.db.interpret(err, "Factories")
	}
	out := make([]*cases.Factory, len(rows))
	for i := range rows {
		out[i] = rows[i].domain()
	}
	return out, nil
}

func (s *UserService) CreateUser(ctx context.Context, actor cases.Actor, n cases.NewUser) (*cases.User, error) {
	n.Email = strings.ToLower(strings.TrimSpace(n.Email))
	n.Name = strings.TrimSpace(n.Name)
	if err := n.Validate(); err != nil {
		return nil, err
	}
	row := userRow{ID: uuid.Must(uuid.NewV7()), Email: n.Email, Name: n.Name, Role: string(n.Role),
		ClientID: n.ClientID, CreatedAt: s.db.now()}
	if n.PasswordHash != "" {
		row.PasswordHash = &n.PasswordHash
	}
	// The email is personal data of a staff member: the entry names the id and role only.
	err := s.db.createAudited(ctx, actor, &row, "User", auditEvent{action: cases.ActionUserCreated, subject: row.ID.String(),
		details: map[string]string{"role": string(n.Role)}})
	if err != nil {
		return nil, err
	}
	return row.domain(), nil
}

func (s *UserService) FindUserByID(ctx context.Context, id uuid.UUID) (*cases.User, error) {
	var row userRow
	if err := s.db.gorm.WithContext(ctx).Where("id = ?", id).Take(&row).Error; err != nil {
		return nil, s.db.interpret(err, "User")
	}
	return row.domain(), nil
}

func (s *UserService) FindUserByEmail(ctx context.Context, email string) (*cases.User, error) {
	row, err := s.byEmail(ctx, email)
	if err != nil {
		return nil, err
	}
	return row.domain(), nil
}

// byEmail finds a user's row by its email, compared as CreateUser stores it.
func (s *UserService) byEmail(ctx context.Context, email string) (*userRow, error) {
	var row userRow
	err := s.db.gorm.WithContext(ctx).Where("email = ?", strings.ToLower(strings.TrimSpace(email))).Take(&row).Error
	if err != nil {
		return nil, s.db.interpret(err, "User")
	}
	return &row, nil
}

func (s *UserService) ListUsers(ctx context.Context) ([]*cases.User, error) {
	var rows []userRow
	if err := s.db.gorm.WithContext(ctx).Order("email").Find(&rows).Error; err != nil {
		return nil, s.db.interpret(err, "Users")
	}
	out := make([]*cases.User, len(rows))
	for i := range rows {
		out[i] = rows[i].domain()
	}
	return out, nil
}

func (s *UserService) SetPasswordHash(ctx context.Context, actor cases.Actor, id uuid.UUID, hash string) error {
	return s.db.updateAudited(ctx, actor, &userRow{}, id, map[string]any{"password_hash": hash}, "User",
		auditEvent{action: cases.ActionPasswordSet, subject: id.String()})
}

func (s *UserService) Credentials(ctx context.Context, email string) (*cases.User, string, error) {
	row, err := s.byEmail(ctx, email)
	if err != nil {
		return nil, "", err
	}
	hash := ""
	if row.PasswordHash != nil {
		hash = *row.PasswordHash
	}
	return row.domain(), hash, nil
}

func (s *UserService) DisableUser(ctx context.Context, actor cases.Actor, id uuid.UUID) error {
	return s.db.updateAudited(ctx, actor, &userRow{}, id, map[string]any{"disabled": true}, "User",
		auditEvent{action: cases.ActionUserDisabled, subject: id.String()})
}

// createAudited inserts row and its audit entry in one transaction.
func (db *DB) createAudited(ctx context.Context, actor cases.Actor, row any, what string, ev auditEvent) error {
	return db.transact(ctx, func(tx *gorm.DB) error {
		if err := tx.Create(row).Error; err != nil {
			return db.interpret(err, what)
		}
		return db.appendAudit(tx, actor, ev)
	})
}

// updateAudited sets cols on the row of model with id, and audits it, in one
// transaction. Returns ENOTFOUND if there is no such row.
func (db *DB) updateAudited(ctx context.Context, actor cases.Actor, model any, id uuid.UUID, cols map[string]any, what string, ev auditEvent) error {
	return db.transact(ctx, func(tx *gorm.DB) error {
		res := tx.Model(model).Where("id = ?", id).Updates(cols)
		if res.Error != nil {
			return db.interpret(res.Error, what)
		} else if res.RowsAffected == 0 {
			return cases.Errorf(cases.ENOTFOUND, "%s not found.", what)
		}
		return db.appendAudit(tx, actor, ev)
	})
}
