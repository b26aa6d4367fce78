"""The conversational agent: LangGraph planner over persisted dialog state; settings and wiring."""
