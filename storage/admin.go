package storage

import (
	"context"
	"strings"

	"github.com/google/uuid"

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

func (s *ClientService) CreateClient(ctx context.Context, n cases.NewClient) (*cases.Client, error) {
	n.Name = strings.TrimSpace(n.Name)
	if err := n.Validate(); err != nil {
		return nil, err
	}
	row := clientRow{ID: uuid.Must(uuid.NewV7()), Name: n.Name, Active: true, CreatedAt: s.db.now()}
	if err := s.db.gorm.WithContext(ctx).Create(&row).Error; err != nil {
		return nil, s.db.interpret(err, "Client")
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

func (s *ClientService) SetClientActive(ctx context.Context, id uuid.UUID, active bool) error {
	res := s.db.gorm.WithContext(ctx).Model(&clientRow{}).Where("id = ?", id).Update("active", active)
	if res.Error != nil {
		return s.db.interpret(res.Error, "Client")
	} else if res.RowsAffected == 0 {
		return cases.Errorf(cases.ENOTFOUND, "Client not found.")
	}
	return nil
}

func (s *FactoryService) CreateFactory(ctx context.Context, n cases.NewFactory) (*cases.Factory, error) {
	n.Name, n.Province, n.City = strings.TrimSpace(n.Name), strings.TrimSpace(n.Province), strings.TrimSpace(n.City)
	if err := n.Validate(); err != nil {
		return nil, err
	}
	row := factoryRow{ID: uuid.Must(uuid.NewV7()), Name: n.Name, Province: n.Province, City: n.City, CreatedAt: s.db.now()}
	if err := s.db.gorm.WithContext(ctx).Create(&row).Error; err != nil {
		return nil, s.db.interpret(err, "Factory")
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

func (s *UserService) CreateUser(ctx context.Context, n cases.NewUser) (*cases.User, error) {
	n.Email = strings.ToLower(strings.TrimSpace(n.Email))
	n.Name = strings.TrimSpace(n.Name)
	if err := n.Validate(); err != nil {
		return nil, err
	}
	row := userRow{ID: uuid.Must(uuid.NewV7()), Email: n.Email, Name: n.Name, Role: string(n.Role),
		ClientID: n.ClientID, CreatedAt: s.db.now()}
	if err := s.db.gorm.WithContext(ctx).Create(&row).Error; err != nil {
		return nil, s.db.interpret(err, "User")
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
	var row userRow
	err := s.db.gorm.WithContext(ctx).Where("email = ?", strings.ToLower(strings.TrimSpace(email))).Take(&row).Error
	if err != nil {
		return nil, s.db.interpret(err, "User")
	}
	return row.domain(), nil
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

func (s *UserService) DisableUser(ctx context.Context, id uuid.UUID) error {
	res := s.db.gorm.WithContext(ctx).Model(&userRow{}).Where("id = ?", id).Update("disabled", true)
	if res.Error != nil {
		return s.db.interpret(res.Error, "User")
	} else if res.RowsAffected == 0 {
		return cases.Errorf(cases.ENOTFOUND, "User not found.")
	}
	return nil
}
