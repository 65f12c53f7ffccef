/**
 * deploy/k8s (Kustomize base), checked offline. kubeconform installs from the Go proxy but needs
 * JSON schemas from GitHub, which this machine cannot reach; so the manifests are parsed and held
 * against what the code defines: the API versions and required fields of each kind, probes,
 * resources, the non-root/read-only security context, every environment variable against the
 * services' zod schemas (and each config parses), secrets only by reference, and images and
 * ports against docker-compose.yml. Where kubectl exists, `kubectl kustomize` must build it.
 */

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { SERVICE_PRINCIPALS } from '@audit/kafka';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { ingestConfigSchema } from '../../services/ingest-api/src/config.ts';
import { queryConfigSchema } from '../../services/query-api/src/config.ts';
import { sealerConfigSchema } from '../../services/sealer/src/config.ts';
import { sinkConfigSchema } from '../../services/sink/src/config.ts';
import { root } from './metrics-catalog.ts';

// biome-ignore lint/suspicious/noExplicitAny: manifests are untyped YAML; each test checks what it reads.
type Obj = any;

const dir = path.join(root, 'deploy/k8s');
const kustomization = parse(fs.readFileSync(path.join(dir, 'kustomization.yaml'), 'utf8')) as {
  namespace: string;
  resources: string[];
  images: { name: string; newTag?: string }[];
};
const objects: Obj[] = kustomization.resources.flatMap((file) =>
  parseAllDocuments(fs.readFileSync(path.join(dir, file), 'utf8')).map((d) => {
    if (d.errors.length > 0) throw new Error(`${file}: ${d.errors[0]!.message}`);
    return { ...d.toJS(), __file: file };
  }),
);
const ofKind = (kind: string) => objects.filter((o) => o.kind === kind);
const named = (kind: string, name: string) => {
  const o = ofKind(kind).find((x) => x.metadata.name === name);
  if (!o) throw new Error(`no ${kind} ${name}`);
  return o;
};

const compose = parse(fs.readFileSync(path.join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, { image: string; build: { args: Record<string, string> }; ports: string[] }>;
};

const API_VERSIONS: Record<string, string> = {
  Namespace: 'v1',
  ConfigMap: 'v1',
  Service: 'v1',
  Deployment: 'apps/v1',
  HorizontalPodAutoscaler: 'autoscaling/v2',
  PodDisruptionBudget: 'policy/v1',
};

interface ServiceSpec {
  // biome-ignore lint/suspicious/noExplicitAny: the four zod object schemas differ in shape.
  schema: { shape: Record<string, any>; safeParse(v: unknown): { success: boolean; error?: unknown } };
  portKey: string;
  hostKey: string;
  /** Variables that must come from a Secret (the dev defaults must never reach production). */
  secrets: string[];
  /** Seconds the process may take to stop after SIGTERM (its onShutdown timeout). */
  shutdownSeconds: number;
  hpa: boolean;
}
const SERVICES: Record<string, ServiceSpec> = {
  'ingest-api': {
    schema: ingestConfigSchema,
    portKey: 'PORT',
    hostKey: 'HOST',
    secrets: ['KAFKA_SASL_PASSWORD'],
    shutdownSeconds: 30,
    hpa: true,
  },
  sink: {
    schema: sinkConfigSchema,
    portKey: 'PORT',
    hostKey: 'HOST',
    secrets: ['CLICKHOUSE_WRITER_PASSWORD', 'KAFKA_SASL_PASSWORD'],
    shutdownSeconds: 30,
    hpa: false,
  },
  'query-api': {
    schema: queryConfigSchema,
    portKey: 'PORT',
    hostKey: 'HOST',
    secrets: ['CLICKHOUSE_READER_PASSWORD', 'QUERY_CURSOR_SECRET'],
    shutdownSeconds: 30,
    hpa: true,
  },
  sealer: {
    schema: sealerConfigSchema,
    portKey: 'PORT',
    hostKey: 'HOST',
    secrets: ['CLICKHOUSE_SEALER_PASSWORD', 'KAFKA_SASL_PASSWORD'],
    shutdownSeconds: 30,
    hpa: false,
  },
};
/** Read outside the zod schemas: by the logger, and by Node itself. */
const ENV_OUTSIDE_SCHEMAS = new Set(['LOG_LEVEL', 'NODE_OPTIONS']);
const SECRET_LIKE = /PASSWORD|SECRET|TOKEN|PRIVATE_KEY/;

/** The container's environment: ConfigMaps (envFrom) then env; a secretKeyRef yields a placeholder. */
function containerEnv(c: Obj): { env: Record<string, string>; fromSecret: Set<string> } {
  const env: Record<string, string> = {};
  const fromSecret = new Set<string>();
  for (const src of c.envFrom ?? []) {
    expect(src.configMapRef, 'envFrom only from ConfigMaps').toBeDefined();
    Object.assign(env, named('ConfigMap', src.configMapRef.name).data);
  }
  for (const e of c.env ?? []) {
    if (e.valueFrom?.secretKeyRef) {
      env[e.name] = `placeholder-secret-from-${e.valueFrom.secretKeyRef.name}-0123456789abcdef`;
      fromSecret.add(e.name);
    } else if (e.valueFrom?.configMapKeyRef) {
      env[e.name] = named('ConfigMap', e.valueFrom.configMapKeyRef.name).data[
        e.valueFrom.configMapKeyRef.key
      ];
    } else {
      env[e.name] = String(e.value);
    }
  }
  return { env, fromSecret };
}

const matches = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([k, v]) => labels?.[k] === v);

/** Kubernetes quantities to numbers (cpu in cores, memory in bytes). */
function quantity(q: string | number): number {
  const m = /^(\d+(?:\.\d+)?)(m|Ki|Mi|Gi|k|M|G)?$/.exec(String(q));
  if (!m) throw new Error(`bad quantity ${q}`);
  const unit = { m: 1e-3, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, k: 1e3, M: 1e6, G: 1e9 }[m[2] ?? ''] ?? 1;
  return Number(m[1]) * unit;
}

describe('Kubernetes manifests', () => {
  it('the kustomization lists every manifest of the directory, and each parses', () => {
    const files = fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml');
    expect([...kustomization.resources].sort()).toEqual(files.sort());
    expect(kustomization.namespace).toBe('audit-log');
    expect(objects.length).toBe(21);
  });

  it('every object has a known kind with its API version and a DNS-1123 name', () => {
    for (const o of objects) {
      expect(Object.keys(API_VERSIONS), `${o.__file}: kind ${o.kind}`).toContain(o.kind);
      expect(o.apiVersion, `${o.kind} ${o.metadata?.name}`).toBe(API_VERSIONS[o.kind]);
      expect(o.metadata?.name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    }
    const ids = objects.map((o) => `${o.kind}/${o.metadata.name}`);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('commits no Secret and no secret value', () => {
    expect(ofKind('Secret')).toEqual([]);
    for (const cm of ofKind('ConfigMap')) {
      expect(
        Object.keys(cm.data).filter((k) => SECRET_LIKE.test(k)),
        cm.metadata.name,
      ).toEqual([]);
    }
    for (const d of ofKind('Deployment')) {
      for (const c of d.spec.template.spec.containers) {
        const literal = (c.env ?? []).filter(
          (e: Obj) => SECRET_LIKE.test(e.name) && !e.valueFrom?.secretKeyRef,
        );
        expect(literal, d.metadata.name).toEqual([]);
      }
    }
  });

  for (const [name, spec] of Object.entries(SERVICES)) {
    describe(name, () => {
      const deployment = named('Deployment', name);
      const pod = deployment.spec.template.spec;
      const [container] = pod.containers;
      const composeSvc = compose.services[name]!;
      const port = Number(composeSvc.build.args.PORT);

      it('has one container, the compose image and port, selected by its own labels', () => {
        expect(pod.containers).toHaveLength(1);
        expect(container.image).toBe(composeSvc.image.split(':')[0]);
        expect(kustomization.images.map((i) => i.name)).toContain(container.image);
        expect(container.ports).toEqual([{ name: 'http', containerPort: port }]);
        expect(composeSvc.ports).toContain(`127.0.0.1:${port}:${port}`);
        expect(matches(deployment.spec.selector.matchLabels, deployment.spec.template.metadata.labels)).toBe(
          true,
        );
        expect(deployment.spec.template.metadata.annotations['prometheus.io/port']).toBe(String(port));
      });

      it('probes /healthz (liveness, startup) and /readyz (readiness) on its port', () => {
        expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
        expect(container.startupProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
        expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
      });

      it('requests and limits cpu and memory, requests within limits', () => {
        for (const r of ['cpu', 'memory']) {
          const req = quantity(container.resources.requests[r]);
          const lim = quantity(container.resources.limits[r]);
          expect(req, r).toBeGreaterThan(0);
          expect(req, r).toBeLessThanOrEqual(lim);
        }
      });

      it('runs non-root with a read-only root file system, no privileges, a writable /tmp', () => {
        expect(pod.securityContext).toMatchObject({
          runAsNonRoot: true,
          seccompProfile: { type: 'RuntimeDefault' },
        });
        expect(pod.securityContext.runAsUser).toBe(1000); // the image's USER 1000:1000
        expect(pod.automountServiceAccountToken).toBe(false);
        expect(container.securityContext).toEqual({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          runAsNonRoot: true,
          capabilities: { drop: ['ALL'] },
        });
        const tmp = container.volumeMounts.find((m: Obj) => m.mountPath === '/tmp');
        expect(pod.volumes.find((v: Obj) => v.name === tmp?.name)?.emptyDir).toBeDefined();
      });

      it('gives the graceful shutdown time before SIGKILL', () => {
        const preStop = Number(container.lifecycle?.preStop?.exec?.command?.[1] ?? 0);
        expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(spec.shutdownSeconds + preStop);
      });

      it('sets only variables its config schema reads, and the config parses', () => {
        const { env, fromSecret } = containerEnv(container);
        const shape = spec.schema.shape;
        expect(Object.keys(env).filter((k) => !(k in shape) && !ENV_OUTSIDE_SCHEMAS.has(k))).toEqual([]);
        const required = Object.keys(shape).filter((k) => !shape[k].safeParse(undefined).success);
        for (const k of required) expect(env, `${name} needs ${k}`).toHaveProperty(k);
        for (const k of spec.secrets) expect([...fromSecret], `${k} from a Secret`).toContain(k);
        // Every secret-like option the service reads and we set comes from a Secret.
        for (const k of Object.keys(env).filter((k) => SECRET_LIKE.test(k)))
          expect(fromSecret.has(k), k).toBe(true);
        const parsed = spec.schema.safeParse(env);
        expect(parsed.error).toBeUndefined();
        const cfg = parsed as unknown as { data: Record<string, unknown> };
        expect(cfg.data[spec.portKey]).toBe(port);
        expect(cfg.data[spec.hostKey]).toBe('0.0.0.0');
        const principal = { 'ingest-api': 'ingest', sink: 'sink', sealer: 'sealer' }[name] as
          | keyof typeof SERVICE_PRINCIPALS
          | undefined;
        if (principal) {
          // Its own Kafka principal (and ACLs), authenticated with SCRAM; the password from a Secret.
          expect(cfg.data.KAFKA_SASL_USERNAME).toBe(SERVICE_PRINCIPALS[principal].username);
          expect(cfg.data.KAFKA_SASL_MECHANISM).toBe('scram-sha-512');
        }
        if (name === 'ingest-api' || name === 'query-api') {
          // Production verifies identity-provider tokens; /login stays off.
          expect(cfg.data.AUTH_JWKS_URL).toMatch(/^https:\/\//);
          expect(cfg.data.AUTH_USERS_FILE).toBeUndefined();
        }
      });

      it('has a Service on its port selecting its pods', () => {
        const svc = named('Service', name);
        expect(matches(svc.spec.selector, deployment.spec.template.metadata.labels)).toBe(true);
        expect(svc.spec.ports).toEqual([{ name: 'http', port, targetPort: 'http' }]);
      });

      it('has a PodDisruptionBudget that a drain can satisfy', () => {
        const pdb = named('PodDisruptionBudget', name);
        expect(matches(pdb.spec.selector.matchLabels, deployment.spec.template.metadata.labels)).toBe(true);
        const min = spec.hpa
          ? named('HorizontalPodAutoscaler', name).spec.minReplicas
          : deployment.spec.replicas;
        if (pdb.spec.minAvailable !== undefined) expect(pdb.spec.minAvailable).toBeLessThan(min);
        else expect(pdb.spec.maxUnavailable).toBeGreaterThanOrEqual(1);
      });

      it(spec.hpa ? 'scales with an HPA on CPU' : 'has no HPA (scaled by Kafka partitions)', () => {
        const hpa = ofKind('HorizontalPodAutoscaler').find((h) => h.metadata.name === name);
        if (!spec.hpa) {
          expect(hpa).toBeUndefined();
          return;
        }
        expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name });
        expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
        expect(hpa.spec.maxReplicas).toBeGreaterThan(hpa.spec.minReplicas);
        expect(hpa.spec.metrics[0].resource.name).toBe('cpu');
        expect(container.resources.requests.cpu, 'utilization needs a cpu request').toBeDefined();
      });
    });
  }

  it('sealer: one instance, never two at once, its key a read-only mounted Secret', () => {
    const deployment = named('Deployment', 'sealer');
    const pod = deployment.spec.template.spec;
    const [container] = pod.containers;
    expect(deployment.spec.replicas).toBe(1);
    expect(deployment.spec.strategy).toEqual({ type: 'Recreate' });
    const { env, fromSecret } = containerEnv(container);
    // The key itself is neither a ConfigMap value nor an environment variable.
    expect(env).not.toHaveProperty('SEALER_SIGNING_KEY');
    expect(fromSecret.has('SEALER_SIGNING_KEY')).toBe(false);
    const keyFile = env.SEALER_SIGNING_KEY_FILE!;
    const mount = container.volumeMounts.find((m: Obj) => keyFile.startsWith(`${m.mountPath}/`));
    expect(mount?.readOnly).toBe(true);
    const volume = pod.volumes.find((v: Obj) => v.name === mount.name);
    expect(volume.secret.secretName).toBe('audit-log-sealer-key');
    expect(volume.secret.defaultMode).toBe(0o400);
    expect(volume.secret.items.map((i: Obj) => `${mount.mountPath}/${i.path}`)).toEqual([keyFile]);
    // Every Deployment that mounts the key is the sealer's.
    const mounting = ofKind('Deployment').filter((d) =>
      (d.spec.template.spec.volumes ?? []).some((v: Obj) => v.secret?.secretName === 'audit-log-sealer-key'),
    );
    expect(mounting.map((d) => d.metadata.name)).toEqual(['sealer']);
    expect(sealerConfigSchema.parse(env).KAFKA_LEAVES_TOPIC).toBe(
      compose.services.sealer ? 'audit.leaves' : '',
    );
  });

  const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;
  it.skipIf(!kubectl)('kubectl kustomize builds the base into the namespace', () => {
    const r = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const built = parseAllDocuments(r.stdout).map((d) => d.toJS());
    expect(built).toHaveLength(objects.length);
    for (const o of built) {
      if (o.kind !== 'Namespace')
        expect(o.metadata.namespace, `${o.kind} ${o.metadata.name}`).toBe('audit-log');
      expect(o.metadata.labels['app.kubernetes.io/part-of']).toBe('audit-log');
    }
    const images = built
      .filter((o) => o.kind === 'Deployment')
      .map((d) => d.spec.template.spec.containers[0].image);
    expect(images.sort()).toEqual([
      'audit-log/ingest-api:dev',
      'audit-log/query-api:dev',
      'audit-log/sealer:dev',
      'audit-log/sink:dev',
    ]);
  });
});
