"""Writes of the service app, split by sub-domain.

- tickets: open, edit, comment, assign and move tickets through their status flow, attachments;
- sla: the service-level clock (due times, pauses, business hours);
- dispatch: automatic and manual assignment to agents;
- alerts: the breach sweep and its escalations;
- surveys, aftersales: satisfaction surveys, purchases and their after-sales calls.
"""
