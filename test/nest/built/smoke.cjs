// The CommonJS twin of smoke.mjs.
require('reflect-metadata');
const { Controller, Get, Module } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const { ExpressAdapter } = require('@nestjs/platform-express');
const { FastifyAdapter } = require('@nestjs/platform-fastify');
const { GenAuth, GenAuthGuardModule, Public, RequirePermission } = require('genauth-guard/nest');
const { startEmulator } = require('genauth-guard/testing');
const { run } = require('./scenario.cjs');

run({ Controller, Get, Module, NestFactory, ExpressAdapter, FastifyAdapter, GenAuth, GenAuthGuardModule, Public, RequirePermission, startEmulator }).then(
  (result) => console.log(JSON.stringify(result)),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
