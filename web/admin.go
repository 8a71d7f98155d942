package web

func (h *Handler) routesAdmin() {}

func (h *Handler) adminHome(q *request) error { return h.home(q) }
