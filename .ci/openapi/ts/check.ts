// Uses the generated types the way a client would: operations by id, query
// parameters where they are. Fails to compile if the document regresses.
import type { operations, paths } from "./api";

type SessionsQuery = NonNullable<operations["listSessions"]["parameters"]["query"]>;
const page: SessionsQuery = { limit: 10, offset: 0 };

type Requirements = operations["getToolRequirements"]["parameters"]["query"];
const which: Requirements = { toolName: "listInstances" };

type ToolPath = paths["/api/v1/tools/{name}/execute"]["post"]["parameters"]["path"];
const tool: ToolPath = { name: "listInstances" };

type Created = operations["createApiKey"]["responses"][201];
export const used: [SessionsQuery, Requirements, ToolPath, Created | undefined] = [page, which, tool, undefined];
