// The app and requests shared by smoke.mjs and smoke.cjs; decorators applied by hand (plain JS).
exports.run = async function run(m) {
  const emulator = await m.startEmulator();
  emulator.setGrants('alice', [{ resourceCode: 'reports', actions: ['reports:Read'] }]);
  class Reports {
    list(auth) {
      return { user: auth.identity.userId };
    }
    open() {
      return { ok: true };
    }
    other() {
      return {};
    }
  }
  const method = (name, decorators) =>
    Reflect.decorate(decorators, Reports.prototype, name, Object.getOwnPropertyDescriptor(Reports.prototype, name));
  method('list', [m.Get(), m.RequirePermission('reports', 'reports:Read')]);
  m.GenAuth()(Reports.prototype, 'list', 0);
  method('open', [m.Get('open'), m.Public()]);
  method('other', [m.Get('other')]);
  Reflect.decorate([m.Controller('reports')], Reports);
  class AppModule {}
  Reflect.decorate([m.Module({ imports: [m.GenAuthGuardModule.forRoot(emulator.guardOptions())], controllers: [Reports] })], AppModule);

  const token = await emulator.mintToken('alice');
  const result = {};
  for (const [name, adapter] of [['express', new m.ExpressAdapter()], ['fastify', new m.FastifyAdapter()]]) {
    const app = await m.NestFactory.create(AppModule, adapter, { logger: false });
    await app.listen(0, '127.0.0.1');
    const base = `http://127.0.0.1:${app.getHttpServer().address().port}`;
    const status = async (path, auth) => {
      const res = await fetch(base + path, { headers: auth ? { authorization: `Bearer ${token}` } : {} });
      return `${res.status} ${res.headers.get('www-authenticate') ?? ''} ${await res.text()}`;
    };
    result[name] = [await status('/reports', true), await status('/reports'), await status('/reports/open'), await status('/reports/other', true)];
    await app.close();
  }
  await emulator.close();
  return result;
};
