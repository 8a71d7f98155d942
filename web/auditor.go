package web

func (h *Handler) routesAuditor() {}
