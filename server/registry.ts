// (being written)
import { Router } from "express";
import type { Node } from "./context.ts";

export function registryRoutes(node: Node): Router {
  void node;
  return Router();
}
