import { MemoryStorage } from "../../../lib/store/memory.ts";
import { Store } from "../../../lib/store/sqlite.ts";
import { storageContract } from "./contract.ts";

storageContract("SQLite storage", () => Store.open(":memory:"));
storageContract("memory storage", () => new MemoryStorage());
