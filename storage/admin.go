package storage

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

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
	n.Name = cases.NormalizeText(n.Name)
	if err := n.Validate(); err != nil {
		return nil, err
	}
	row := clientRow{ID: uuid.Must(uuid.NewV7()), Name: n.Name, Active: true, CreatedAt: s.db.now(), ReportLanguage: n.ReportLanguage}
	if row.ReportLanguage == "" {
		row.ReportLanguage = "en"
	}
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

func (s *ClientService) SetReportLanguage(ctx context.Context, actor cases.Actor, id uuid.UUID, language string) error {
	if err := cases.ValidateReportLanguage(language); err != nil {
		return err
	}
	return s.db.updateAudited(ctx, actor, &clientRow{}, id, map[string]any{"report_language": language}, "Client",
		auditEvent{action: cases.ActionClientReportLanguage, subject: id.String(), details: map[string]string{"report_language": language}})
}

func (s *FactoryService) CreateFactory(ctx context.Context, actor cases.Actor, n cases.NewFactory) (*cases.Factory, error) {
	switch actor.Role {
	case cases.RoleAuditor, cases.RoleSupervisor, cases.RoleAdmin, cases.RoleSystem:
	default:
		return nil, cases.Errorf(cases.EFORBIDDEN, "Only auditors, supervisors and admins add factories.")
	}
	n.Normalize()
	if err := n.Validate(); err != nil {
		return nil, err
	}
	row := factoryRow{ID: uuid.Must(uuid.NewV7()), Name: n.Name, NameEn: n.NameEn, Province: n.Province, City: n.City, CreatedAt: s.db.now()}
	clients := slices.Clone(n.ClientIDs)
	slices.SortFunc(clients, func(a, b uuid.UUID) int { return strings.Compare(a.String(), b.String()) })
	err := s.db.transact(ctx, func(tx *gorm.DB) error {
		if len(clients) > 0 {
			var known int64
			if err := tx.Model(&clientRow{}).Where("id IN ?", clients).Count(&known).Error; err != nil {
				return s.db.interpret(err, "Clients")
			}
			if int(known) != len(clients) {
				return &cases.Error{Code: cases.EINVALID, Message: "The factory is not valid.",
					Failed: []cases.Failure{{Name: "client_ids", Message: "a client id names no client"}}}
			}
		}
		if err := tx.Create(&row).Error; err != nil {
			return s.db.interpret(err, "Factory")
		}
		for _, c := range clients {
			if err := tx.Create(&factoryClientRow{FactoryID: row.ID, ClientID: c}).Error; err != nil {
				return s.db.interpret(err, "Factory's brand")
			}
		}
		return s.db.appendAudit(tx, actor, auditEvent{action: cases.ActionFactoryCreated, subject: row.ID.String(),
			details: map[string]string{"clients": strconv.Itoa(len(clients))}})
	})
	if err != nil {
		return nil, err
	}
	f := row.domain()
	f.ClientIDs = clients
	return f, nil
}

func (s *FactoryService) FindFactoryByID(ctx context.Context, id uuid.UUID) (*cases.Factory, error) {
	var row factoryRow
	g := s.db.gorm.WithContext(ctx)
	if err := g.Where("id = ?", id).Take(&row).Error; err != nil {
		return nil, s.db.interpret(err, "Factory")
	}
	f := row.domain()
	if err := s.withClients(g, []*cases.Factory{f}); err != nil {
		return nil, err
	}
	return f, nil
}

func (s *FactoryService) ListFactories(ctx context.Context) ([]*cases.Factory, error) {
	var rows []factoryRow
	g := s.db.gorm.WithContext(ctx)
	if err := g.Order("province, city, name, id").Find(&rows).Error; err != nil {
		return nil, s.db.interpret(err, "Factories")
	}
	out := make([]*cases.Factory, len(rows))
	for i := range rows {
		out[i] = rows[i].domain()
	}
	return out, s.withClients(g, out)
}

// FactoryNames returns the names of the factories of ids that exist, in
// at most one query: a page of cases, or an answered case, names its
// factories with it. A factory's name never changes once it is created
// (a duplicate is merged away, not renamed), so names read lately are
// kept in memory for a while (factoryNameTTL, at most factoryNameMax).
func (s *FactoryService) FactoryNames(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]string, error) {
	out := make(map[uuid.UUID]string, len(ids))
	missing := s.db.factoryNames.lookup(ids, out)
	if len(missing) == 0 {
		return out, nil
	}
	var rows []factoryRow
	if err := s.db.gorm.WithContext(ctx).Select("id", "name").Where("id IN ?", missing).Find(&rows).Error; err != nil {
		return nil, s.db.interpret(err, "Factories")
	}
	for _, r := range rows {
		out[r.ID] = r.Name
	}
	s.db.factoryNames.store(rows)
	return out, nil
}

// nameCache keeps factory names by id.
type nameCache struct {
	mu      sync.Mutex
	names   map[uuid.UUID]string
	expires time.Time
}

const (
	factoryNameTTL = 5 * time.Minute
	factoryNameMax = 10_000
)

// lookup copies the cached names of ids into out and returns the ids it lacks.
func (c *nameCache) lookup(ids []uuid.UUID, out map[uuid.UUID]string) []uuid.UUID {
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Now().After(c.expires) {
		c.names = nil
	}
	var missing []uuid.UUID
	for _, id := range ids {
		if n, ok := c.names[id]; ok {
			out[id] = n
		} else {
			missing = append(missing, id)
		}
	}
	return missing
}

func (c *nameCache) store(rows []factoryRow) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.names == nil || len(c.names)+len(rows) > factoryNameMax {
		c.names = make(map[uuid.UUID]string, len(rows))
		c.expires = time.Now().Add(factoryNameTTL)
	}
	for _, r := range rows {
		c.names[r.ID] = r.Name
	}
}

// withClients fills the brands of factories in one query.
func (s *FactoryService) withClients(tx *gorm.DB, factories []*cases.Factory) error {
	if len(factories) == 0 {
		return nil
	}
	byID := make(map[uuid.UUID]*cases.Factory, len(factories))
	ids := make([]uuid.UUID, len(factories))
	for i, f := range factories {
		byID[f.ID], ids[i] = f, f.ID
	}
	var rows []factoryClientRow
	if err := tx.Where("factory_id IN ?", ids).Find(&rows).Error; err != nil {
		return s.db.interpret(err, "Factories' brands")
	}
	for _, r := range rows {
		byID[r.FactoryID].ClientIDs = append(byID[r.FactoryID].ClientIDs, r.ClientID)
	}
	for _, f := range factories {
		slices.SortFunc(f.ClientIDs, func(a, b uuid.UUID) int { return strings.Compare(a.String(), b.String()) })
	}
	return nil
}

// MergeFactories folds a duplicate factory into another: its cases and its
// brands move over, then it is deleted, in one audited transaction.
func (s *FactoryService) MergeFactories(ctx context.Context, actor cases.Actor, from, into uuid.UUID) (*cases.Factory, error) {
	if actor.Role != cases.RoleAdmin && actor.Role != cases.RoleSystem {
		return nil, cases.Errorf(cases.EFORBIDDEN, "Only an admin merges factories.")
	}
	if from == into {
		return nil, &cases.Error{Code: cases.EINVALID, Message: "The merge is not valid.",
			Failed: []cases.Failure{{Name: "into", Message: "a factory cannot be merged into itself"}}}
	}
	var moved int64
	err := s.db.transact(ctx, func(tx *gorm.DB) error {
		for _, id := range []uuid.UUID{from, into} {
			if ok, err := s.db.exists(tx, &factoryRow{}, "id = ?", id); err != nil {
				return err
			} else if !ok {
				return cases.Errorf(cases.ENOTFOUND, "Factory not found.")
			}
		}
		err := tx.Exec(`INSERT INTO factory_clients (factory_id, client_id)
			SELECT ?, client_id FROM factory_clients WHERE factory_id = ?
			ON CONFLICT (factory_id, client_id) DO NOTHING`, into, from).Error
		if err != nil {
			return s.db.interpret(err, "Factory's brands")
		}
		res := tx.Model(&caseRow{}).Where("factory_id = ?", from).Update("factory_id", into)
		if res.Error != nil {
			return s.db.interpret(res.Error, "Cases")
		}
		moved = res.RowsAffected
		if err := tx.Where("id = ?", from).Delete(&factoryRow{}).Error; err != nil {
			return s.db.interpret(err, "Factory")
		}
		return s.db.appendAudit(tx, actor, auditEvent{action: cases.ActionFactoriesMerged, subject: into.String(),
			details: map[string]string{"merged": from.String(), "cases_moved": strconv.FormatInt(moved, 10)}})
	})
	if err != nil {
		return nil, err
	}
	return s.FindFactoryByID(ctx, into)
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

// FindUserByID answers from a short cache (usercache.go): it serves the
// user check of every authenticated request.
func (s *UserService) FindUserByID(ctx context.Context, id uuid.UUID) (*cases.User, error) {
	if u := s.db.users.get(id); u != nil {
		return u, nil
	}
	var row userRow
	if err := s.db.gorm.WithContext(ctx).Where("id = ?", id).Take(&row).Error; err != nil {
		return nil, s.db.interpret(err, "User")
	}
	u := row.domain()
	s.db.users.put(u)
	return u, nil
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
	defer s.db.users.drop(id)
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

// DisableUser disables a user and drops it from this process's user cache
// at once (other servers see it within userCacheTTL).
func (s *UserService) DisableUser(ctx context.Context, actor cases.Actor, id uuid.UUID) error {
	defer s.db.users.drop(id)
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
